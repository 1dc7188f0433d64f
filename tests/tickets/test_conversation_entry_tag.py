"""`{% conversation_entry %}` writes what the conversation template wrote for each reply."""
from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template

from tickets import selectors
from tickets import services

pytestmark = pytest.mark.django_db

# Each reply as the conversation template wrote it before the tag.
REFERENCE = Template("""{% load ticket_tags %}{% for comment in comments %}    <li id="comment-{{ comment.pk }}" class="comment{% if comment.internal %} comment-internal{% endif %}" data-comment-id="{{ comment.pk }}" data-author="{{ comment.author.username }}">
      {% avatar comment.author %}
      <article class="comment-main" aria-labelledby="comment-{{ comment.pk }}-by">
        <header class="comment-meta">
          <strong id="comment-{{ comment.pk }}-by">{% if comment.internal %}Internal note by {% endif %}{{ comment.author.display_name }}</strong>
          {% if comment.author_id == ticket.requester_id %}<span class="badge badge-neutral">Requester</span>{% elif comment.author.is_agent %}<span class="badge badge-info">Service desk</span>{% endif %}
          {% if comment.internal %}<span class="badge badge-warning">Internal note</span>{% endif %}
          {% if comment.channel != "web" %}<span class="badge badge-neutral" data-channel="{{ comment.channel }}">via {{ comment.get_channel_display }}</span>{% endif %}
          <a class="comment-time" href="#comment-{{ comment.pk }}">{% ago comment.created_at %}</a>
        </header>
        <div class="markdown">{{ comment.body_html|safe }}</div>
        {% with files=comment.attachments.all %}
        {% if files %}
        <ul class="attachment-list" aria-label="Attachments">
          {% for file in files %}
          <li><a href="/api/v1/attachments/{{ file.token }}/" download>{{ file.filename }}</a> <span class="muted small">{{ file.size|filesizeformat }}</span></li>
          {% endfor %}
        </ul>
        {% endif %}
        {% endwith %}
      </article>
    </li>
{% endfor %}""")
TAG = Template("{% load ticket_tags %}{% for comment in comments %}{% conversation_entry comment ticket %}{% endfor %}")


def squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


def test_the_tag_writes_what_the_template_wrote(make_user):
    requester = make_user("req", display_name="Rae <b>Q</b> & co")
    agent = make_user("agent1", role="agent", display_name="")
    other = make_user("other", display_name="Otto")
    ticket = services.ticket_create(actor=requester, kind="incident", title="Printer", description="It jams.",
                                    visibility="public")
    upload = services.attachment_add(actor=requester, ticket=ticket,
                                     upload=SimpleUploadedFile("log <1>.txt", b"plain words\n" * 300))
    services.comment_add(actor=requester, ticket=ticket, body="Still **jammed** <script>x</script>",
                         attachments=[upload])
    services.comment_add(actor=agent, ticket=ticket, body="Looking", internal=True)
    services.comment_add(actor=agent, ticket=ticket, body="By mail", channel="email")
    services.comment_add(actor=other, ticket=ticket, body="Me as well")
    comments = selectors.comments_for(user=agent, ticket=ticket)
    assert len(comments) == 4 and any(comment.attachments.all() for comment in comments)
    context = {"comments": comments, "ticket": ticket}
    assert squeeze(TAG.render(Context(context))) == squeeze(REFERENCE.render(Context(context)))
