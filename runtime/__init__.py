"""How the servers are run: the one module that changes Rasa's behaviour
(`rasa_patches`), applied by the launcher (`python -m runtime`), the tracker store,
and the action server (`python -m runtime.action_server`)."""

# What endpoints.yml names the tracker store by (runtime/tracker_store.py); the
# report accepts it beside Rasa's own `SQL`.
CACHED_SQL_STORE = "runtime.tracker_store.CachedSQLTrackerStore"

# Settings the production profile's endpoints file (deploy/endpoints.production.yml)
# may leave out of the environment, with what they then are: applied by the
# launcher, the purge and the report alike.
PRODUCTION_DEFAULTS = {"DB_PORT": "5432", "REDIS_PORT": "6379", "REDIS_PASSWORD": "", "REDIS_DB": "1"}

# The environment variable holding the secret the action server asks Rasa for: read
# by the action server and by `python -m runtime`, which sends it.
ACTION_SERVER_TOKEN = "ACTION_SERVER_TOKEN"

# Names in domain.yml that Rasa itself (runtime/rasa_patches.py), not the action
# server, acts on: the greeting whose buttons count as offered before the assistant
# has said anything; the action that deletes the conversation it is run in, and its
# confirmation; the apology when the action server fails.
GREETING_RESPONSE = "utter_greet"
DELETE_CONVERSATION_ACTION = "action_delete_conversation"
DELETED_RESPONSE = "utter_conversation_deleted"
UNAVAILABLE_RESPONSE = "utter_service_unavailable"
