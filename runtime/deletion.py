"""'Delete my conversation', on the Rasa server's side: the action that confirms it
and the save that deletes instead. The web channels' own deletion endpoint
(channels.conversations.delete_conversation) shares the store lookup."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, List, Set, Text

if TYPE_CHECKING:
    from rasa.shared.core.events import Event

logger = logging.getLogger(__name__)


def conversations_deleted_on_request(replace: Callable[[Any, str, Any], Any]) -> None:
    """`action_delete_conversation` (runtime.DELETE_CONVERSATION_ACTION) runs in Rasa,
    not on the action server: it confirms with the response
    runtime.DELETED_RESPONSE, and instead of saving the conversation at the end of
    the turn, Rasa deletes it from the tracker store (which must have a `delete`
    method, as runtime.tracker_store's has). The message asking for it goes too.

    Installed by runtime.rasa_patches (a safety patch), whose `replace` swaps in
    the new functions and keeps Rasa's own for its tests."""
    import rasa.core.actions.action as actions
    from rasa.core.actions.action import Action, ActionBotResponse
    from rasa.core.processor import MessageProcessor

    from channels.conversations import deleting_store
    from runtime import DELETE_CONVERSATION_ACTION, DELETED_RESPONSE

    to_delete: Set[Text] = set()  # conversations whose turn ends in deletion

    class DeleteConversation(Action):
        def name(self) -> Text:
            return DELETE_CONVERSATION_ACTION

        async def run(self, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
            to_delete.add(tracker.sender_id)
            return await ActionBotResponse(DELETED_RESPONSE).run(output_channel, nlg, tracker, domain)

    def action_for_name_or_text(name: Text, domain: Any, endpoint: Any) -> Any:
        if name == DELETE_CONVERSATION_ACTION:
            if name not in domain.action_names_or_texts:
                domain.raise_action_not_found_exception(name)
            return DeleteConversation()
        return rasas_action_for(name, domain, endpoint)

    async def save_tracker(self: MessageProcessor, tracker: Any) -> None:
        if tracker.sender_id in to_delete:
            to_delete.discard(tracker.sender_id)
            store = deleting_store(self)
            if store is not None:
                await store.delete(tracker.sender_id)
                logger.info("A conversation was deleted at its owner's request.")
                return
            logger.error("The tracker store cannot delete conversations: this one was kept.")
        await rasas_save(self, tracker)

    rasas_action_for = replace(actions, "action_for_name_or_text", action_for_name_or_text)
    rasas_save = replace(MessageProcessor, "save_tracker", save_tracker)
