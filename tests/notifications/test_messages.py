"""The message catalogue: callers pass a template and parameters of a fixed shape, never text.
Pure: no database."""

from __future__ import annotations

import pytest

from careledger.notifications import messages


def test_the_login_code_template_renders_chinese_text_with_the_code() -> None:
    text = messages.get("portal_login_code").render("sms", {"code": "042917"})
    assert text.startswith("【康链健康】")
    assert "042917" in text
    assert "5分钟" in text


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"code": "123456", "name": "张三"},  # no parameter the template does not name
        {"code": "12345"},
        {"code": "1234567"},
        {"code": "12345a"},
        {"code": "请回电 13800138000"},  # free text cannot ride in a parameter
        {"code": 123456},
    ],
)
def test_parameters_must_fit_the_template_exactly(params) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(messages.TemplateError):
        messages.get("portal_login_code").render("sms", params)


def test_a_refused_value_is_not_repeated_in_the_error() -> None:
    with pytest.raises(messages.TemplateError) as error:
        messages.get("portal_login_code").render("sms", {"code": "13800138000"})
    assert "13800138000" not in str(error.value)


def test_unknown_templates_and_channels_are_refused() -> None:
    with pytest.raises(messages.TemplateError):
        messages.get("free_text")
    with pytest.raises(messages.TemplateError):
        messages.get("portal_login_code").render("email", {"code": "123456"})


def test_only_non_personal_parameters_are_demo_visible() -> None:
    for template in messages.TEMPLATES.values():
        assert template.demo_visible <= set(template.params)
    assert messages.get("portal_login_code").demo_visible == {"code"}
