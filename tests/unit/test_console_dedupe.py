"""The console's one set of form macros and its pager, rendered: a field's attributes are
attributes (not an escaped string), a page of several forms names each field by its form and
keeps what was typed only in the form that was sent, and the pager keeps a page's query."""

from __future__ import annotations

from services.console.calls import Refused
from services.console.web import TEMPLATES, form_groups, form_rows


def render(source: str, **context: object) -> str:
    return TEMPLATES.from_string(source).render(**context)


def test_a_fields_input_mode_and_autocomplete_are_attributes() -> None:
    html = render(
        '{% from "macros.html" import field %}'
        "{{ field(none, {}, 'login_name', '登录名', inputmode='numeric', autocomplete='off') }}"
    )
    assert (
        '<input type="text" inputmode="numeric" id="login_name" name="login_name" value=""'
        ' autocomplete="off">'
    ) in html


def test_a_page_of_several_forms_shows_the_refusal_beside_the_form_sent() -> None:
    refused = Refused(422, "填写的内容有误", fields={"reason": "请填写原因。"})
    source = (
        '{% from "macros.html" import field, choose %}'
        "{% for name in ('post', 'retirement') %}"
        "{% set r, kept = (refused, filled) if form == name else (none, {}) %}"
        "{{ field(r, kept, 'reason', '原因', type='textarea', value='原有', form=name) }}"
        "{{ choose(r, kept, 'kind', '类型', [('a', '甲')], form=name, placeholder='请选择') }}"
        "{% endfor %}"
    )
    html = render(source, refused=refused, filled={"reason": "已输入"}, form="retirement")
    assert '<textarea id="post-reason" name="reason">原有</textarea>' in html
    sent = 'id="retirement-reason" name="reason" aria-invalid="true"'
    assert f'<textarea {sent} aria-describedby="err-retirement-reason">已输入</textarea>' in html
    assert '<p class="field-error" id="err-retirement-reason">请填写原因。</p>' in html
    assert "err-post-reason" not in html
    assert html.count('<option value="">请选择</option>') == 2


def test_the_pager_keeps_the_pages_query() -> None:
    source = '{% from "paging.html" import pager %}{{ pager(page, pages, query) }}'
    middle = render(source, page=2, pages=3, query="township_id=t-1&year=2027")
    assert 'href="?township_id=t-1&amp;year=2027&amp;page=1">上一页' in middle
    assert 'href="?township_id=t-1&amp;year=2027&amp;page=3">下一页' in middle
    assert 'href="?page=2"' in render(source, page=1, pages=2, query="")
    assert "翻页" not in render(source, page=1, pages=1, query="")


def test_a_forms_numbered_rows_in_their_order() -> None:
    form = {"items.10.title": " 十 ", "items.2.title": "二", "items.x.title": "?", "note": "n"}
    assert form_rows(form, "items") == [{"title": "二"}, {"title": "十"}]
    assert form_groups({"revised.i-1.title": " 新 "}, "revised") == {"i-1": {"title": "新"}}
