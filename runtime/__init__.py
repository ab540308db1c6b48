"""How the Rasa server is run: the one module that changes Rasa's behaviour
(`rasa_patches`), applied by the launcher (`python -m runtime`), and the tracker store."""

# What endpoints.yml names the tracker store by (runtime/tracker_store.py); the
# report accepts it beside Rasa's own `SQL`.
CACHED_SQL_STORE = "runtime.tracker_store.CachedSQLTrackerStore"
