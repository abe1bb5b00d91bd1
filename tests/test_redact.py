from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from agentlog._redact import REDACTED, Redactor


def test_secret_keys_are_masked_at_any_depth() -> None:
    r = Redactor()
    data = {"headers": {"Authorization": "Bearer abc", "X-Api-Key": "k"}, "openai_api_key": "v",
            "password": "p", "list": [{"refresh_token": "t"}]}  # fmt: skip
    out = r.redact(data)
    assert out["headers"] == {"Authorization": REDACTED, "X-Api-Key": REDACTED}
    assert out["openai_api_key"] == REDACTED and out["password"] == REDACTED
    assert out["list"] == [{"refresh_token": REDACTED}]


def test_usage_counters_are_not_secrets() -> None:
    r = Redactor()
    usage = {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7, "max_tokens": 10}
    assert r.redact(usage) == usage


def test_provider_key_shaped_strings_are_masked_inside_text() -> None:
    r = Redactor()
    text = "use sk-proj-abcdefghijklmnopqrstuvwx and AKIAABCDEFGHIJKLMNOP please"
    assert r.redact(text) == f"use {REDACTED} and {REDACTED} please"


def test_empty_secret_fields_are_kept() -> None:
    assert Redactor().redact({"api_key": None, "token": ""}) == {"api_key": None, "token": ""}


def test_user_patterns_and_keys_extend_defaults() -> None:
    r = Redactor(keys=["ssn"], patterns=[r"\d{3}-\d{2}-\d{4}"])
    assert r.redact({"ssn": "x", "note": "id 123-45-6789"}) == {
        "ssn": REDACTED,
        "note": f"id {REDACTED}",
    }


def test_screen_skips_clean_payloads() -> None:
    r = Redactor()
    assert not r.needs_walk(b'{"input":{"query":"reset my login"},"output":["a"]}')
    assert not r.needs_walk(b'{"usage":{"input_tokens":1,"output_tokens":2},"keyboard":1}')
    assert r.needs_walk(b'{"input":{"password":"x"}}')
    assert r.needs_walk(b'{"note":"sk-ant-api03-abcdefghijklmnopqrstuvwxyz"}')


def test_screen_skips_secret_words_in_text_that_are_not_keys() -> None:
    r = Redactor()
    for text in ('{"q":"reset my password 1"}', '{"q":"my password?"}', '{"a":"the author"}',
                 '{"q":"a secret: 42"}', '{"q":["cookies", "credentials."]}'):  # fmt: skip
        assert not r.needs_walk(text.encode()), text


def test_screen_finds_every_secret_shape_whatever_surrounds_it() -> None:
    r = Redactor(keys=["x-Team-Token-2"])
    for text in (
        '{"X-API-KEY":"1"}', '{"Authorization":"Basic 1"}', '{"db":{"PassWord":"1"}}',
        '{"client-secret":7}', '{"openai_api_key":"1"}', '{"set-cookie":"a=1"}',
        '{"Credentials":[1]}', '{"n":"AKIA0123456789ABCDEF"}', '{"n":"ghp_0123"}',
        '{"n":"xoxb-1-2"}', '{"n":"AIza_0"}', '{"h":"Bearer 0.1"}', '{"x_team_token_2":1}',
        '{"X-TEAM-TOKEN-2":1}',
    ):  # fmt: skip
        assert r.needs_walk(f"[1, 2.5, {text}, null]".encode()), text


def test_screen_gates_agree_with_scanning_for_every_fragment() -> None:
    r = Redactor(keys=["x-Team-Token-2", "_1"])
    texts = [b'{"input":{"query":"q"},"output":["q"]}', b'{"k":"monkey business"}', b"[]"]
    for fragment in r._fragments:
        word = fragment.decode()
        for variant in (word, word.upper(), word.replace("_", "-"), word.title()):
            texts.append(f'{{"a":"x {variant} y","{variant}":1}}'.encode())
    for text in texts:
        folded, exact = text.translate(r._fold, r._drop), text.translate(r._fold)
        expected = any(f in (exact if f.endswith(b'"') else folded) for f in r._fragments)
        assert r.needs_walk(text) == expected, text


_WORDS = ("query", "input_tokens", "author", "password", "Db-Password", "X-API-KEY", "apikey",
          "auth_token", "Authorization", "monkey", "secret", "client_secret", "set-cookie",
          "credentials", "passwd", "tokens", "keys", "TOKEN")  # fmt: skip
_TEXTS = ("reset my password?", "sk-proj-abcdefghijklmnopqrstuvwx", "Bearer abcdefghijklmnop12",
          "AKIAABCDEFGHIJKLMNOP", "the author's secret", "cookie", "ok")  # fmt: skip


def _json_values() -> st.SearchStrategy[Any]:
    texts = st.builds(lambda a, b, c: f"{a}{b}{c}", st.sampled_from(("", " ", "1 ", "(")),
                      st.sampled_from(_TEXTS), st.sampled_from(("", "!", " 2", '"')))  # fmt: skip
    leaves = st.one_of(texts, st.integers(-(2**53), 2**53), st.none(), st.just(""))
    keys = st.builds(lambda p, w: p + w, st.sampled_from(("", "x_", "openai-", "my")),
                     st.sampled_from(_WORDS))  # fmt: skip
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=4)
        ),
        max_leaves=12,
    )


@settings(max_examples=400, deadline=None)
@given(_json_values())
def test_a_value_the_screen_passes_has_nothing_to_redact(value: Any) -> None:
    r = Redactor()
    if not r.needs_walk(orjson.dumps(value)):
        assert r.redact(value) == value


def test_key_verdicts_are_kept_for_a_bounded_number_of_names() -> None:
    r = Redactor()
    names = [f"field_{i}" for i in range(5000)] + [f"n{i}_api_key" for i in range(5000)]
    assert [r.key_is_secret(n) for n in names] == [False] * 5000 + [True] * 5000
    assert len(r._verdicts) == 4096
    assert r.key_is_secret("Other-Token") and not r.key_is_secret("field_4999")
