"""channels/ownership.py: conversation tokens the server signs, and channel namespaces."""

from __future__ import annotations

import pytest

from channels import ownership

SECRET = b"a-test-secret-of-enough-length"
NOW = 1_800_000_000.0


def test_a_token_names_one_web_conversation_and_each_token_another():
    first, second = ownership.issue_token(SECRET, NOW), ownership.issue_token(SECRET, NOW)
    one, two = ownership.conversation_of(first, SECRET, NOW), ownership.conversation_of(second, SECRET, NOW)
    assert one and two and one != two
    assert one.startswith("web:") and two.startswith("web:")
    assert ownership.conversation_of(first, SECRET, NOW + 60) == one, "the same token, the same conversation"


def _tamper(token: str, part: int, value: str) -> str:
    parts = token.split(".")
    parts[part] = value
    return ".".join(parts)


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: _tamper(t, 1, "A" * 22),  # another id, same signature
        lambda t: _tamper(t, 2, "%x" % (int(t.split(".")[2], 16) + 1)),  # another time
        lambda t: _tamper(t, 3, t.split(".")[3][:-1] + ("A" if t[-1] != "A" else "B")),  # signature
        lambda t: _tamper(t, 0, "c2"),  # version
        lambda t: t.rsplit(".", 1)[0],  # unsigned
        lambda t: t + ".extra",
        lambda t: t.split(".")[1],  # the id alone, as an old widget sent it
        lambda t: "",
        lambda t: "x" * 10_000,
    ],
)
def test_a_forged_token_is_refused(forge):
    token = ownership.issue_token(SECRET, NOW)
    assert ownership.conversation_of(forge(token), SECRET, NOW) is None


def test_another_servers_token_is_refused():
    token = ownership.issue_token(b"another-secret-of-enough-length", NOW)
    assert ownership.conversation_of(token, SECRET, NOW) is None


@pytest.mark.parametrize("value", [None, 5, 1.5, ["c1"], {"token": "x"}, b"c1.abc"])
def test_a_token_of_the_wrong_type_is_refused(value):
    assert ownership.conversation_of(value, SECRET, NOW) is None


def test_a_token_expires_with_the_retention_period():
    token = ownership.issue_token(SECRET, NOW)
    age = ownership.TOKEN_MAX_AGE_SECONDS
    assert ownership.conversation_of(token, SECRET, NOW + age - 1)
    assert ownership.conversation_of(token, SECRET, NOW + age + 1) is None
    # Issued in the future: allowed within the clock skew only.
    assert ownership.conversation_of(token, SECRET, NOW - ownership.CLOCK_SKEW_SECONDS + 1)
    assert ownership.conversation_of(token, SECRET, NOW - ownership.CLOCK_SKEW_SECONDS - 10) is None


def test_the_secret_must_be_set_and_long_enough(monkeypatch):
    monkeypatch.delenv(ownership.CONVERSATION_SECRET, raising=False)
    with pytest.raises(ownership.MissingSecret, match="CONVERSATION_SECRET"):
        ownership.secret_from_environment()
    monkeypatch.setenv(ownership.CONVERSATION_SECRET, "short")
    with pytest.raises(ownership.MissingSecret):
        ownership.secret_from_environment()
    monkeypatch.setenv(ownership.CONVERSATION_SECRET, "s" * 32)
    assert ownership.secret_from_environment() == b"s" * 32


def test_the_rest_token_is_checked_exactly(monkeypatch):
    monkeypatch.setenv(ownership.REST_API_TOKEN, "t" * 32)
    expected = ownership.rest_api_token()
    assert ownership.bearer_matches("Bearer " + "t" * 32, expected)
    for header in [None, "", "Bearer ", "Bearer " + "t" * 31, "Basic " + "t" * 32, "t" * 32]:
        assert not ownership.bearer_matches(header, expected), header
    monkeypatch.setenv(ownership.REST_API_TOKEN, "short")
    assert ownership.rest_api_token() is None, "a short token switches server-to-server use off"
    assert not ownership.bearer_matches("Bearer short", ownership.rest_api_token())


def test_each_channel_has_its_own_namespace():
    spaces = {ownership.WEB, ownership.REST_API, ownership.SLACK, ownership.TEAMS}
    assert len(spaces) == 4
    ids = {ownership.namespaced(space, "U123") for space in spaces}
    assert len(ids) == 4, "the same local id in two channels is two conversations"
    # A REST caller's own id cannot spell another channel's conversation: it is
    # always filed under rest:, whatever it says.
    assert ownership.namespaced(ownership.REST_API, "slack:U123") == "rest:slack:U123"


def test_a_pseudonym_is_stable_unguessable_and_keeps_the_parts_apart():
    one = ownership.pseudonym(SECRET, "T1", "D1", "U1")
    assert one == ownership.pseudonym(SECRET, "T1", "D1", "U1")
    assert len(one) == 22 and all(c.isalnum() or c in "-_" for c in one)
    assert one != ownership.pseudonym(b"another-secret-of-enough-length", "T1", "D1", "U1")
    # Moving text between parts is another person, not the same one.
    assert ownership.pseudonym(SECRET, "T1", "D1U", "1") != ownership.pseudonym(SECRET, "T1", "D1", "U1")
    assert "U1" not in one and "D1" not in one
