"""Attachments: what an upload keeps, who may fetch it, what it costs each model, and what a turn does with it."""

import io
import math
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from billing.models import Hold
from catalog.models import AIModel
from chat.attachments.prompt import Prompt
from chat.attachments.services import delete_unsent_attachments
from chat.attachments.tasks import read_attachment_text
from chat.attachments.tokens import anthropic_image_tokens, openai_image_tokens
from chat.exceptions import AttachmentRefused, AttachmentTooLarge, CannotReadImages, NotFound
from chat.models import Attachment, Conversation, Message, Turn
from chat.providers.base import Usage
from chat.services import ReplyOutcome, delete_conversation, finish_reply, start_turn
from standins.files import pdf, png
from tests.factories import fund

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("openai_and_anthropic")]


def jpeg_with_location(width: int, height: int) -> bytes:
    """Return a JPEG carrying EXIF metadata: a GPS position and a camera, as a phone photo does."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPSInfo
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, format="JPEG", exif=exif)
    return out.getvalue()


def upload(client: Client, name: str, data: bytes):
    return client.post("/api/attachments/", {"file": _named(name, data)})


def _named(name: str, data: bytes):
    return SimpleUploadedFile(name, data)


@pytest.fixture
def client_of(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def stranger(django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_user(email="eve@example.com", password="x-y-z-w-v-u"))
    return client


def stored(attachment_id: str) -> Attachment:
    return Attachment.objects.get(public_id=attachment_id)


# --- Upload: what is kept ---------------------------------------------------------------------------


def test_an_image_is_kept_re_encoded_without_its_metadata_and_priced_per_model(client_of):
    response = upload(client_of, "holiday.jpg", jpeg_with_location(1000, 800))

    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["content_type"], body["width"], body["height"]) == ("image", "image/jpeg", 1000, 800)
    kept = stored(body["id"])
    with Image.open(io.BytesIO(kept.file_bytes())) as image:
        assert not image.getexif(), "the GPS position and camera must not pass through"
        assert image.size == (1000, 800)
    # 1000x800 at high detail: short side to 768 -> 960x768, 2x2 tiles; Anthropic: 1000*800/750.
    assert body["tokens"]["gpt-4o-mini"] == 2833 + 5667 * 4 + 0
    assert body["tokens"]["claude-3-5-haiku"] == math.ceil(1000 * 800 / 750)
    assert body["tokens"]["gpt-4.1-mini"] == math.ceil(32 * 25 * 1.62)  # 32-px patches, x 1.62
    assert "holiday" not in kept.file.name and kept.file.name.startswith(f"attachments/{kept.user_id}/")


def test_a_large_image_is_scaled_to_what_providers_read_and_priced_at_that_size(client_of):
    body = upload(client_of, "wide.png", png(4000, 1000)).json()
    assert (body["width"], body["height"]) == (1568, 392)
    assert body["tokens"]["claude-3-5-haiku"] == math.ceil(1568 * 392 / 750)
    assert body["tokens"]["gpt-4o-mini"] == 2833 + 5667 * math.ceil(1568 / 512) * 1


def test_the_image_token_formulas_match_the_providers_documented_examples():
    # OpenAI's worked examples (GPT-4o: 85 + 170 a tile): 1024x1024 -> 768x768, 4 tiles: 765 tokens;
    # 2048x4096 -> 1024x2048 -> 768x1536, 6 tiles: 1105 tokens.
    assert openai_image_tokens(1024, 1024, base=85, per_tile=170) == 765
    assert openai_image_tokens(2048, 4096, base=85, per_tile=170) == 1105
    # Anthropic's table: a 1092x1092 image is about 1590 tokens.
    assert anthropic_image_tokens(1092, 1092) == 1590


def test_a_pdf_is_read_to_text_and_a_text_file_kept_as_it_is(client_of):
    body = upload(client_of, "report.pdf", pdf("Revenue rose 12 percent", "Costs fell")).json()
    assert (body["kind"], body["pages"], body["status"]) == ("pdf", 2, "ready")
    kept = stored(body["id"])
    assert "Revenue rose 12 percent" in kept.text and "Costs fell" in kept.text
    assert body["tokens"]["gpt-4o-mini"] > 0

    csv = upload(client_of, "sales.csv", b"region,total\nnorth,10\n").json()
    assert (csv["kind"], csv["content_type"]) == ("text", "text/plain")
    assert stored(csv["id"]).text == "region,total\nnorth,10\n"


def test_a_long_pdf_is_read_in_the_background_with_progress(client_of, settings, django_capture_on_commit_callbacks):
    settings.ATTACHMENT_BACKGROUND_PAGES = 3
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        body = upload(client_of, "long.pdf", pdf(*(f"Page {n} text" for n in range(1, 13)))).json()
    assert (body["status"], body["pages"], body["tokens"]["gpt-4o-mini"]) == ("reading", 12, None)
    assert len(callbacks) == 1  # the Celery task, queued once the upload commits

    assert read_attachment_text.apply(args=[stored(body["id"]).pk]).get() == "ready"  # as a worker runs it

    after = client_of.get(f"/api/attachments/{body['id']}/").json()
    assert (after["status"], after["pages_read"]) == ("ready", 12)
    assert "Page 12 text" in stored(body["id"]).text


# --- Upload: what is refused ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("notes.txt", png(10, 10), "named as a .txt file but its contents are an image"),
        ("photo.png", b"just some text, not an image", "named as an image but its contents are not"),
        ("scan.jpg", pdf("hello"), "named as an image but its contents are a PDF"),
        ("paper.pdf", png(10, 10), "named as a PDF but its contents are an image"),
        ("tool.exe", b"MZ\x90\x00 binary", "is not a file Panels can attach"),
        ("data.csv", b"a,b\x00\x01\x02", "holds binary data"),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "could not be read as an image"),
    ],
)
def test_a_file_lying_about_its_type_or_unreadable_is_refused_and_nothing_is_kept(client_of, name, data, says):
    response = upload(client_of, name, data)
    assert response.status_code == 400
    assert response.json()["error"] == "attachment_refused"
    assert says in response.json()["detail"]
    assert not Attachment.objects.exists()


def test_an_oversize_file_is_refused_with_the_limit_and_nothing_is_kept(client_of, settings):
    settings.ATTACHMENT_MAX_BYTES = 50_000
    response = upload(client_of, "big.txt", b"x" * 60_000)
    assert response.status_code == 413
    assert response.json()["error"] == "attachment_too_large"
    assert "at most" in response.json()["detail"] and "MB" in response.json()["detail"]
    assert not Attachment.objects.exists()
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.txt"))


def test_a_pdf_over_the_page_limit_is_refused(client_of, settings):
    settings.ATTACHMENT_MAX_PDF_PAGES = 2
    response = upload(client_of, "three.pdf", pdf("a", "b", "c"))
    assert response.status_code == 413
    assert "3 pages; a PDF can have at most 2" in response.json()["detail"]


def test_logged_out_uploads_are_refused(db):
    assert Client().post("/api/attachments/", {"file": _named("a.txt", b"hi")}).status_code == 401


# --- Only its owner ----------------------------------------------------------------------------------


def test_another_person_cannot_read_fetch_or_remove_a_file_by_its_id(client_of, stranger):
    body = upload(client_of, "secret.png", png(20, 20)).json()

    assert stranger.get(body["url"]).status_code == 404
    assert stranger.get(f"/api/attachments/{body['id']}/").status_code == 404
    assert stranger.delete(f"/api/attachments/{body['id']}/").status_code == 404
    assert Attachment.objects.filter(public_id=body["id"]).exists()

    own = client_of.get(body["url"])
    assert own.status_code == 200 and own["Content-Type"] == "image/png"
    assert own["X-Content-Type-Options"] == "nosniff"
    assert b"".join(own.streaming_content) == stored(body["id"]).file_bytes()


@pytest.mark.parametrize("attachment_id", [str(uuid.uuid4()), "1", "..%2F..%2Fsettings.py", "not-a-uuid"])
def test_unknown_or_made_up_ids_are_404s(client_of, attachment_id):
    assert client_of.get(f"/api/attachments/{attachment_id}/content").status_code == 404


def test_a_non_image_file_is_served_as_a_download_never_as_a_page(client_of):
    body = upload(client_of, "page.html", b"<script>alert(1)</script>").json()
    response = client_of.get(body["url"])
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response["Content-Security-Policy"]


def test_a_file_not_yet_sent_can_be_removed_with_its_stored_file(
    client_of, settings, django_capture_on_commit_callbacks
):
    body = upload(client_of, "draft.png", png(20, 20)).json()
    path = Path(settings.MEDIA_ROOT) / stored(body["id"]).file.name
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert client_of.delete(f"/api/attachments/{body['id']}/").status_code == 204
    assert not path.exists()


# --- Sending --------------------------------------------------------------------------------------


def send(user, models, content, attachment_ids, **extra):
    return start_turn(
        user=user,
        request_id=str(uuid.uuid4()),
        conversation_id=None,
        model_slugs=models,
        content=content,
        attachment_ids=attachment_ids,
        **extra,
    )


def test_an_image_goes_to_each_model_as_an_image_part_priced_into_its_hold(user, client_of):
    fund(user, 5_000_000)
    image = upload(client_of, "chart.png", png(1000, 800)).json()
    notes = upload(client_of, "notes.md", b"# Notes\nQuarterly numbers").json()

    started = send(user, ["gpt-4o-mini", "claude-3-5-haiku"], "What does the chart show?", [image["id"], notes["id"]])

    mini, claude = started.replies
    for reply, slug in ((mini, "gpt-4o-mini"), (claude, "claude-3-5-haiku")):
        last = reply.call.messages[-1]
        assert len(last.images) == 1 and last.images[0].media_type == "image/png"
        assert last.content.startswith("What does the chart show?")
        assert "File: notes.md" in last.content and "Quarterly numbers" in last.content
        message = Message.objects.get(pk=reply.message_id)
        assert message.attachment_tokens == image["tokens"][slug] + notes["tokens"][slug]
        assert reply.estimated_input_tokens >= message.attachment_tokens
        hold = Hold.objects.get(reference=f"message:{reply.message_id}")
        assert hold.estimated_input_tokens == reply.estimated_input_tokens
    turn = Turn.objects.get(pk=started.turn.pk)
    assert sorted(a.name for a in turn.attachments.all()) == ["chart.png", "notes.md"]
    assert {a.name for a in started.attachments} == {"chart.png", "notes.md"}


def test_a_model_without_vision_is_refused_for_an_image_before_anything_is_held(user, client_of):
    fund(user, 5_000_000)
    AIModel.objects.filter(slug="claude-3-haiku").update(supports_vision=False)
    image = upload(client_of, "chart.png", png(100, 100)).json()

    with pytest.raises(CannotReadImages, match="Claude 3 Haiku cannot read images"):
        send(user, ["gpt-4o-mini", "claude-3-haiku"], "Describe it", [image["id"]])

    assert not Hold.objects.exists() and not Turn.objects.exists() and not Conversation.objects.exists()
    assert stored(image["id"]).turn_id is None  # still attachable to the next try


def test_auto_chooses_a_model_with_vision_for_an_image(user, client_of):
    fund(user, 5_000_000)
    AIModel.objects.exclude(slug__in=["claude-3-5-haiku"]).update(supports_vision=False)
    image = upload(client_of, "chart.png", png(100, 100)).json()
    started = send(user, ["auto"], "Give me a JSON list of the colours", [image["id"]])
    assert started.messages[0].model.slug == "claude-3-5-haiku"


def test_a_file_is_sent_once_and_only_by_its_owner(user, client_of, django_user_model):
    fund(user, 5_000_000)
    image = upload(client_of, "chart.png", png(50, 50)).json()
    send(user, ["gpt-4o-mini"], "First", [image["id"]])

    with pytest.raises(AttachmentRefused, match="already sent"):
        send(user, ["gpt-4o-mini"], "Again", [image["id"]])
    other = django_user_model.objects.create_user(email="mallory@example.com", password="x-y-z-w-v-u")
    fund(other, 5_000_000)
    with pytest.raises(NotFound):
        send(other, ["gpt-4o-mini"], "Mine now", [image["id"]])


def test_a_prompt_over_the_count_or_size_limit_is_refused(user, client_of, settings):
    fund(user, 5_000_000)
    ids = [upload(client_of, f"f{n}.txt", b"x" * 100).json()["id"] for n in range(3)]
    settings.ATTACHMENTS_PER_PROMPT = 2

    with pytest.raises(AttachmentRefused, match="at most 2 files"):
        send(user, ["gpt-4o-mini"], "All three", ids)
    settings.ATTACHMENTS_PER_PROMPT, settings.ATTACHMENTS_MAX_PROMPT_BYTES = 5, 250
    with pytest.raises(AttachmentTooLarge, match="come to"):
        send(user, ["gpt-4o-mini"], "All three", ids)
    assert not Hold.objects.exists()


def test_a_later_turn_sends_the_earlier_image_again_in_the_history(user, client_of):
    fund(user, 5_000_000)
    image = upload(client_of, "chart.png", png(200, 100)).json()
    first = send(user, ["claude-3-5-haiku"], "What is this?", [image["id"]])

    finish_reply(
        message_id=first.replies[0].message_id,
        outcome=ReplyOutcome(text="A red box.", usage=Usage(10, 5), stopped=False),
        estimated_input_tokens=first.replies[0].estimated_input_tokens,
    )
    second = start_turn(
        user=user,
        request_id=str(uuid.uuid4()),
        conversation_id=first.turn.conversation_id,
        model_slugs=["claude-3-5-haiku"],
        content="And its colour?",
    )
    history = second.replies[0].call.messages
    assert [len(m.images) for m in history] == [1, 0, 0]
    assert Message.objects.get(pk=second.replies[0].message_id).attachment_tokens == 0


def test_deleting_a_conversation_deletes_its_files(user, client_of, settings, django_capture_on_commit_callbacks):
    fund(user, 5_000_000)
    image = upload(client_of, "chart.png", png(50, 50)).json()
    started = send(user, ["gpt-4o-mini"], "Look", [image["id"]])

    finish_reply(
        message_id=started.replies[0].message_id,
        outcome=ReplyOutcome(text="", usage=None, stopped=False, error_code="provider_error", error_detail="x"),
        estimated_input_tokens=0,
    )
    path = Path(settings.MEDIA_ROOT) / stored(image["id"]).file.name
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        delete_conversation(conversation=Conversation.objects.get(pk=started.turn.conversation_id))
    assert not Attachment.objects.exists()
    assert not path.exists()


def test_the_conversation_and_its_export_list_the_files_by_name_and_size(user, client_of):
    fund(user, 5_000_000)
    image = upload(client_of, "chart.png", png(300, 200)).json()
    started = send(user, ["gpt-4o-mini"], "Look", [image["id"]])
    conversation_id = started.turn.conversation_id

    turn = client_of.get(f"/api/conversations/{conversation_id}/").json()["turns"][0]
    assert [(a["name"], a["size_bytes"], a["width"]) for a in turn["attachments"]] == [
        ("chart.png", image["size_bytes"], 300)
    ]
    markdown = client_of.get(f"/api/conversations/{conversation_id}/export").content.decode()
    assert f"Attached: chart.png ({image['size_bytes']:,} bytes, 300x200 px)" in markdown
    exported = client_of.get(f"/api/conversations/{conversation_id}/export?format=json").json()
    assert exported["turns"][0]["attachments"][0]["name"] == "chart.png"


def test_files_attached_but_never_sent_are_deleted_after_a_day(
    user, client_of, settings, django_capture_on_commit_callbacks
):
    old = upload(client_of, "old.png", png(20, 20)).json()
    upload(client_of, "fresh.png", png(20, 20))
    sent = upload(client_of, "sent.png", png(20, 20)).json()
    fund(user, 5_000_000)
    send(user, ["gpt-4o-mini"], "Look", [sent["id"]])
    Attachment.objects.filter(public_id__in=[old["id"], sent["id"]]).update(
        created_at=timezone.now() - timedelta(days=1, minutes=1)
    )
    path = Path(settings.MEDIA_ROOT) / stored(old["id"]).file.name

    with django_capture_on_commit_callbacks(execute=True):
        assert delete_unsent_attachments() == 1

    assert sorted(Attachment.objects.values_list("name", flat=True)) == ["fresh.png", "sent.png"]
    assert not path.exists()


@pytest.mark.parametrize(
    ("slug", "size", "tokens"),
    [
        # GPT-4.1 mini: 1000x800 is 32 x 25 patches = 800, x 1.62; 1568x1568 is 49 x 49 = 2401 patches, shrunk
        # to whole patches within 1,536 (39 x 39 = 1,521), x 1.62.
        ("gpt-4.1-mini", (1000, 800), math.ceil(800 * 1.62)),
        ("gpt-4.1-mini", (1568, 1568), math.ceil(1521 * 1.62)),
        # Gemini: 258 within 384 x 384, else 258 per 768-px tile (1000x800: 2 x 2 tiles).
        ("gemini-2.0-flash", (300, 200), 258),
        ("gemini-2.0-flash", (1000, 800), 258 * 4),
        ("claude-3-haiku", (1000, 800), math.ceil(1000 * 800 / 750)),
    ],
)
def test_each_model_prices_an_image_by_its_provider_s_formula(client_of, slug, size, tokens):
    assert upload(client_of, "shot.png", png(*size)).json()["tokens"][slug] == tokens


def test_the_stored_path_is_not_served_to_anyone(client_of, stranger):
    body = upload(client_of, "private.png", png(20, 20)).json()
    path = stored(body["id"]).file.name
    for client in (client_of, stranger, Client()):
        for url in (f"/media/{path}", f"/{path}", f"/static/../media/{path}"):
            assert client.get(url).status_code == 404


def test_files_alone_go_to_auto_and_title_the_conversation_by_the_file(user, client_of):
    fund(user, 5_000_000)
    notes = upload(client_of, "standup-notes.md", b"- shipped the export\n- next: attachments").json()
    started = send(user, ["auto"], "", [notes["id"]])
    reply = started.replies[0]
    assert reply.call.messages[-1].content.startswith("File: standup-notes.md")
    assert started.turn.conversation.title.startswith("standup-notes")


def test_the_words_go_exactly_as_typed_before_the_files(user, client_of):
    model = AIModel.objects.get(slug="gpt-4o-mini")
    typed = "    if x:\n        return 1\n"  # pasted code: its first line's indentation matters
    assert Prompt(typed).text_for(model) == typed
    notes = stored(upload(client_of, "notes.md", b"hello").json()["id"])
    assert Prompt(typed, (notes,)).text_for(model).startswith(typed + "\n\nFile: notes.md\n")
    assert Prompt("", (notes,)).text_for(model).startswith("File: notes.md\n")
