"""Files attached to a prompt, in a real browser: pasted, dropped or chosen, shown as chips, sent, shown in the turn.

The files are made here (a PNG by Pillow, a one-page PDF by hand) and handed to the page as the browser would:
in a paste event's clipboard, in drag-and-drop events' data, or through the file chooser.
"""

import base64
import io
import re

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from billing.models import Hold
from catalog.models import AIModel
from chat.attachments.prompt import Prompt
from chat.models import Attachment, RouteRule, Turn
from standins.files import pdf
from tests.browser.site import screenshot
from tests.browser.test_chat_page import choose_models, last_turn_panels, open_chat, send
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)

# Hands `files` ({name, type, base64}) to the page: pasted into the prompt, or dragged onto the composer and
# dropped there (`hold`: dragged over it and not yet dropped, to see the drop highlight).
GIVE_FILES = """({files, how}) => {
  const transfer = new DataTransfer();
  for (const file of files) {
    const bytes = Uint8Array.from(atob(file.base64), (char) => char.charCodeAt(0));
    transfer.items.add(new File([bytes], file.name, {type: file.type}));
  }
  const options = {dataTransfer: transfer, bubbles: true, cancelable: true};
  const composer = document.querySelector("[data-composer]");
  if (how === "paste") {
    document.querySelector("#prompt").dispatchEvent(
      new ClipboardEvent("paste", {clipboardData: transfer, bubbles: true, cancelable: true}));
  } else if (how === "hold") {
    composer.dispatchEvent(new DragEvent("dragenter", options));
    composer.dispatchEvent(new DragEvent("dragover", options));
  } else {
    composer.dispatchEvent(new DragEvent("drop", options));
  }
}"""


def png(width: int = 600, height: int = 400) -> bytes:
    """Return a PNG of a small drawing: a sky, a sun and a hill."""
    image = Image.new("RGB", (width, height), (135, 190, 235))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.65, height * 0.1, width * 0.85, height * 0.4), fill=(250, 210, 60))
    draw.polygon([(0, height), (width * 0.45, height * 0.45), (width, height)], fill=(70, 140, 80))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def as_file(name: str, content_type: str, data: bytes) -> dict:
    return {"name": name, "type": content_type, "base64": base64.b64encode(data).decode()}


def paste(page, *files: dict) -> None:
    page.evaluate(GIVE_FILES, {"files": list(files), "how": "paste"})


def drop(page, *files: dict) -> None:
    page.evaluate(GIVE_FILES, {"files": list(files), "how": "hold"})
    page.evaluate(GIVE_FILES, {"files": list(files), "how": "drop"})


def chip(page, name: str):
    return page.locator("[data-attachments] .attachment").filter(has_text=name)


def held_credits(user) -> int:
    return sum(Hold.objects.filter(wallet__user=user).values_list("amount_credits", flat=True))


def test_an_image_pasted_and_a_pdf_dropped_go_to_both_panels_and_show_in_the_turn(new_page, user, tmp_path):
    fund(user, 5_000_000)
    page = open_chat(new_page, user)
    models = ["gpt-4o-mini", "claude-3-5-haiku"]
    choose_models(page, models)
    text = "Describe both of them."
    page.locator("#prompt").fill(text)

    paste(page, as_file("sketch.png", "image/png", png()))
    image_chip = chip(page, "sketch.png")
    expect(image_chip).to_have_attribute("data-status", "ready")
    expect(image_chip).to_contain_text("600 \N{MULTIPLICATION SIGN} 400 px")
    expect(image_chip.locator(".attachment-thumb img")).to_have_attribute("src", re.compile(r"/content$"))

    composer = page.locator("[data-composer]")
    report = as_file("report.pdf", "application/pdf", pdf("Quarterly tea sales rose by nine percent."))
    page.evaluate(GIVE_FILES, {"files": [report], "how": "hold"})
    expect(composer).to_have_class(re.compile(r"\bdropping\b"))  # the drop highlight while it is dragged over
    page.evaluate(GIVE_FILES, {"files": [report], "how": "drop"})
    expect(composer).not_to_have_class(re.compile(r"\bdropping\b"))
    pdf_chip = chip(page, "report.pdf")
    expect(pdf_chip).to_have_attribute("data-status", "ready")
    expect(pdf_chip).to_contain_text("1 page")

    # The estimate counts each file at what the server will count for each model.
    attachments = tuple(Attachment.objects.filter(user=user).order_by("created_at"))
    assert [a.kind for a in attachments] == ["image", "pdf"]
    server_input = max(Prompt(text, attachments).tokens_for(AIModel.objects.get(slug=slug)) for slug in models)
    estimate = page.locator("[data-estimate]")
    expect(estimate).to_have_attribute("data-input-tokens", str(server_input))
    shown_worst = int(estimate.get_attribute("data-worst-credits"))
    expect(page.locator("[data-send]")).to_be_enabled()
    screenshot(page, "attachments-composer-desktop-light.png", tmp_path)

    page.locator("#prompt").press("Enter")

    panels = last_turn_panels(page)
    expect(page.locator('.panel[data-status="complete"]')).to_have_count(2)
    expect(page.locator("[data-attachments]")).to_be_hidden()  # sent: the chips left the composer
    turn = Turn.objects.get(user=user)
    assert sorted(turn.attachments.values_list("name", flat=True)) == ["report.pdf", "sketch.png"]
    assert held_credits(user) == shown_worst  # "Up to" was what the server held
    prompt = page.locator(".turn").last.locator(".prompt")
    thumbnail = prompt.locator(".prompt-image")
    expect(thumbnail).to_have_attribute("target", "_blank")
    expect(thumbnail.locator("img")).to_have_attribute("alt", "sketch.png")
    expect(prompt.locator(".file-chip")).to_contain_text("report.pdf")
    expect(prompt.locator(".file-chip")).to_contain_text("1 page")
    for index in range(2):
        footer = panels.nth(index).get_by_test_id("token-counts")
        expect(footer).to_have_text(re.compile(r"^[\d,]+ in \([\d,]+ from files\) · [\d,]+ out$"))
        # Each model received the image itself: the simulator names what it saw, as a model describes it.
        expect(panels.nth(index)).to_contain_text("Seen: image 600x400 image/png")
    assert all(message.attachment_tokens > 0 for message in turn.messages.all())
    assert page.evaluate("() => document.querySelector('.prompt-image img').naturalWidth") == 600  # it loaded
    screenshot(page, "attachments-turn-desktop-light.png", tmp_path)

    page.reload()  # the saved conversation shows the same files and footers
    expect(page.locator(".prompt-image img")).to_have_attribute("alt", "sketch.png")
    expect(page.locator(".file-chip")).to_contain_text("report.pdf")
    expect(page.get_by_test_id("token-counts").first).to_contain_text("from files)")
    assert page.errors == []


def test_an_image_for_a_model_without_vision_is_warned_and_auto_routes_it_to_a_model_with_vision(new_page, user):
    fund(user, 5_000_000)
    mistral_large = AIModel.objects.get(slug="mistral-large")
    assert not mistral_large.supports_vision
    # Plain chat goes to the one model without vision, unless an image goes with it.
    RouteRule.objects.update_or_create(
        task="general_chat", defaults={"model": mistral_large, "reason": "Careful replies.", "enabled": True}
    )
    page = open_chat(new_page, user)
    choose_models(page, ["mistral-large", "gpt-4o-mini"])
    page.locator("#prompt").fill("What is in this picture?")
    paste(page, as_file("sketch.png", "image/png", png()))
    expect(chip(page, "sketch.png")).to_have_attribute("data-status", "ready")

    warning = page.locator("[data-vision-warning]")
    expect(warning).to_have_text("Mistral Large cannot read images: remove the image or pick a model with vision.")
    expect(page.locator("[data-send]")).to_be_disabled()
    page.locator("#prompt").press("Enter")
    assert not Turn.objects.filter(user=user).exists()

    choose_models(page, ["auto"])
    expect(warning).to_be_hidden()
    expect(page.locator("[data-send]")).to_be_enabled()
    estimate = page.locator("[data-estimate]")
    expect(estimate).to_have_attribute("data-auto-models", re.compile(r"^[\w.-]+$"))
    routed = estimate.get_attribute("data-auto-models")
    assert routed != "mistral-large" and AIModel.objects.get(slug=routed).supports_vision
    shown_worst = int(estimate.get_attribute("data-worst-credits"))
    page.locator("#prompt").press("Enter")

    expect(last_turn_panels(page).first).to_have_attribute("data-status", "complete")
    hold = Hold.objects.get(wallet__user=user)
    assert hold.model.slug == routed
    assert hold.amount_credits == shown_worst


def test_a_file_removed_before_sending_is_deleted_and_a_prompt_of_files_alone_goes(new_page, user, tmp_path):
    fund(user, 5_000_000)
    page = open_chat(new_page, user)
    choose_models(page, ["gpt-4o-mini"])
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\n\nBrew at 80 °C for two minutes.\n")
    page.locator("[data-file-input]").set_input_files(notes)  # as the paperclip's file chooser gives it
    paste(page, as_file("sketch.png", "image/png", png()))
    expect(chip(page, "notes.md")).to_have_attribute("data-status", "ready")
    expect(chip(page, "sketch.png")).to_have_attribute("data-status", "ready")
    assert Attachment.objects.filter(user=user).count() == 2

    remove = page.get_by_role("button", name="Remove notes.md")
    remove.focus()
    page.keyboard.press("Enter")

    expect(chip(page, "notes.md")).to_have_count(0)
    expect(page.get_by_role("button", name="Remove sketch.png")).to_be_focused()  # focus stays among the chips
    expect(page.locator("[data-send]")).to_be_enabled()  # no words, but a file: it can go
    page.locator("[data-send]").click()

    expect(last_turn_panels(page).first).to_have_attribute("data-status", "complete")
    assert list(Attachment.objects.filter(user=user).values_list("name", flat=True)) == ["sketch.png"]
    turn = Turn.objects.get(user=user)
    assert turn.content == "" and turn.attachments.get().name == "sketch.png"
    prompt = page.locator(".turn").last.locator(".prompt")
    expect(prompt.locator(".prompt-image img")).to_be_visible()
    expect(prompt.locator(".prompt-text")).to_be_hidden()
    expect(page.locator(".file-chip")).to_have_count(0)


def test_a_file_whose_contents_are_not_what_its_name_says_is_refused_with_the_server_s_reason(new_page, user):
    page = open_chat(new_page, user)
    choose_models(page, ["gpt-4o-mini"])

    drop(page, as_file("photo.png", "image/png", b"These are words, not pixels.\n"))

    expect(page.locator(".notice")).to_have_text(
        "“photo.png” is named as an image but its contents are not. Attach the file it claims to be."
    )
    expect(page.locator("[data-attachments]")).to_be_hidden()
    expect(page.locator("[data-attachments] .attachment")).to_have_count(0)
    assert not Attachment.objects.filter(user=user).exists()


def test_more_files_than_a_prompt_may_have_are_not_uploaded_past_the_limit(new_page, user, settings):
    page = open_chat(new_page, user)
    limit = int(page.locator("#chat").get_attribute("data-attachments-per-prompt"))
    assert limit == settings.ATTACHMENTS_PER_PROMPT

    drop(page, *(as_file(f"note-{n}.txt", "text/plain", f"Note {n}.".encode()) for n in range(limit + 1)))

    expect(page.locator(".notice")).to_have_text(f"A prompt can have at most {limit} files attached.")
    chips = page.locator("[data-attachments] .attachment")
    expect(chips).to_have_count(limit)
    expect(page.locator('[data-attachments] .attachment[data-status="ready"]')).to_have_count(limit)
    assert Attachment.objects.filter(user=user).count() == limit


def test_another_tab_of_the_conversation_shows_the_files_sent_and_their_share(new_page, user):
    fund(user, 5_000_000)
    sender = open_chat(new_page, user)
    choose_models(sender, ["gpt-4o-mini"])
    send(sender, "Hello from the first tab")
    expect(last_turn_panels(sender).first).to_have_attribute("data-status", "complete")
    watcher = new_page(user)
    watcher.goto(f"/chat/{Turn.objects.get(user=user).conversation_id}/")
    expect(watcher.locator("#chat")).to_have_attribute("data-connection", "open")

    drop(sender, as_file("report.pdf", "application/pdf", pdf("Oolong sits between green and black tea.")))
    expect(chip(sender, "report.pdf")).to_have_attribute("data-status", "ready")
    send(sender, "Summarise the report.")

    expect(watcher.locator(".turn")).to_have_count(2)  # at once, without a reload
    shown = watcher.locator(".turn").last
    expect(shown.locator(".file-chip")).to_contain_text("report.pdf")
    expect(shown.locator(".prompt-text")).to_have_text("Summarise the report.")
    expect(shown.locator(".panel")).to_have_attribute("data-status", "complete")
    expect(shown.get_by_test_id("token-counts")).to_contain_text("from files)")
    assert watcher.errors == [] and sender.errors == []
