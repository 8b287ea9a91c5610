"""Conversations: turns, and one reply message per panel; the routing rules and the server processes.

The catalog (providers, AI models) lives in the catalog app; prices live in billing (`Price`).
"""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.db.models import Q, Value

from catalog.models import AIModel
from chat.router.table import REASON_MAX_CHARS, TABLE
from errors.constraints import ConstraintErrorsOnFields


class Conversation(models.Model):
    """One person's chat: a title, an optional system prompt, and its turns."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    title = models.CharField(max_length=200, blank=True)
    system_prompt = models.TextField(blank=True)
    chosen_models = models.JSONField(default=list, blank=True, help_text="The model slugs last chosen.")
    # The new columns have database defaults, so a process of the previous release can still write rows.
    chosen_settings = models.JSONField(
        default=list,
        db_default=Value([], output_field=models.JSONField()),
        blank=True,
        help_text="Each chosen panel's temperature and max output tokens, as last chosen.",
    )
    current_turn = models.ForeignKey(
        "Turn",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The last turn of the branch last viewed or answered; the page opens on its branch.",
    )
    pinned_at = models.DateTimeField(null=True, blank=True, help_text="Pinned conversations list first.")
    folder = models.CharField(max_length=60, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["user", "-updated_at"], name="conversation_user_recent")]

    def __str__(self):
        return self.title or f"Conversation {self.pk}"


class Turn(models.Model):
    """One prompt of a person and the replies of each model chosen for it (its panels).

    Turns form a tree: each follows its `parent` (None for a first prompt). Editing an earlier prompt adds a
    sibling of that turn (a new branch); the old branch stays as it was.
    """

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="turns")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children", help_text="The turn before."
    )
    request_id = models.CharField(max_length=64, help_text="The client's id for the send; a retry reuses it.")
    content = models.TextField()
    winner = models.ForeignKey(
        "Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", help_text="The best reply."
    )
    winner_task = models.CharField(
        max_length=64, blank=True, default="", db_default="", help_text="The task of the prompt, when a winner is set."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "request_id"], name="turn_request_once_per_user")]
        indexes = [models.Index(fields=["user", "winner_task"], condition=Q(winner__isnull=False), name="turn_won")]

    def __str__(self):
        return f"Turn {self.pk} of {self.conversation_id}"


def attachments_storage():
    """Return the storage attachments are kept in (`STORAGES["attachments"]`), read when a file is saved."""
    return storages["attachments"]


def attachment_path(attachment: "Attachment", filename: str) -> str:
    """Return where a file is kept: under its owner, by a random id, so no name is guessable or person-given."""
    return f"attachments/{attachment.user_id}/{attachment.public_id.hex}{PurePath(filename).suffix.lower()}"


class Attachment(models.Model):
    """A file a person attached to a prompt: an image, a PDF or a text-like file, served only to its owner.

    Uploaded first (with no turn), then sent with a prompt, which sets `turn`. Images are kept re-encoded (no
    metadata); `text` is what a PDF or text file contributes to the prompt, read in the background for long PDFs.
    """

    class Kind(models.TextChoices):
        IMAGE = "image"
        PDF = "pdf"
        TEXT = "text"

    class Status(models.TextChoices):
        READING = "reading"  # its text is being read (a long PDF, in a Celery worker)
        READY = "ready"
        FAILED = "failed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="Its id in URLs.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attachments")
    turn = models.ForeignKey(Turn, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments")
    name = models.CharField(max_length=255, help_text="The file's name as uploaded, for people to recognise it.")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    content_type = models.CharField(max_length=100, help_text="Read from the bytes, not the name.")
    size_bytes = models.PositiveBigIntegerField(help_text="Of the file as kept (an image after re-encoding).")
    file = models.FileField(upload_to=attachment_path, storage=attachments_storage, max_length=300)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    pages_read = models.PositiveIntegerField(default=0, db_default=0)
    text = models.TextField(blank=True, default="", db_default="", help_text="What the prompt carries as text.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.READY, db_default="ready")
    error = models.CharField(max_length=300, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["created_at"], condition=Q(turn__isnull=True), name="attachment_unsent")]

    def __str__(self):
        return self.name

    def file_bytes(self) -> bytes:
        """Return the file's bytes, read from storage once per instance (every panel of a turn sends them)."""
        if not hasattr(self, "_bytes"):
            with self.file.open("rb") as opened:
                self._bytes = opened.read()
        return self._bytes


def hold_reference(message_id: int) -> str:
    """Return the reference of the hold that pays for one reply; billing keys the hold and its charge on it."""
    return f"message:{message_id}"


class ModelCall(models.Model):
    """One call of a model and what came of it: who chose it and why, its status, usage, cost and timing.

    A chat reply (`Message`) and a call through the API (`ApiCall`) are both model calls: the same hold pays
    for each and the same code settles it (chat/services.py `record_outcome`).
    """

    class Status(models.TextChoices):
        STREAMING = "streaming"
        COMPLETE = "complete"
        STOPPED = "stopped"
        ERROR = "error"

    model = models.ForeignKey(AIModel, on_delete=models.PROTECT, related_name="+")
    requested_model = models.CharField(max_length=64, help_text="What the person picked: a slug, or auto.")
    route_task = models.CharField(max_length=64, blank=True, help_text="The task Auto recognised, if Auto chose.")
    route_reason = models.CharField(max_length=REASON_MAX_CHARS, blank=True)  # the router clips to it
    comparison_model = models.ForeignKey(
        AIModel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="If Auto chose: the other candidate whose price the reply is compared with.",
    )
    comparison_credits = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="What the same tokens would have cost on the comparison model."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.STREAMING)
    input_tokens = models.PositiveIntegerField(default=0)
    cached_input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    usage_estimated = models.BooleanField(default=False)
    credits = models.BigIntegerField(default=0)
    price = models.ForeignKey("billing.Price", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    ttft_ms = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    streaming_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="From the first token to the last: the time that speed is measured over."
    )
    error_code = models.CharField(max_length=40, blank=True)
    error_detail = models.CharField(max_length=500, blank=True)
    provider_request_id = models.CharField(max_length=200, blank=True)
    streamed_by = models.UUIDField(
        null=True, blank=True, editable=False, help_text="The server process that streams the reply (its id)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Message(ModelCall):
    """One model's reply in one panel of a turn, with what it used and what it cost.

    Regenerating a panel adds a version of it in place: the earlier versions stay (each was paid for), and
    the `current` one is what the page shows and what later turns send as this panel's history.
    """

    turn = models.ForeignKey(Turn, on_delete=models.CASCADE, related_name="messages")
    panel = models.PositiveSmallIntegerField(help_text="Column of the reply in its turn, from 0.")
    version = models.PositiveSmallIntegerField(default=1, db_default=1)
    current = models.BooleanField(
        default=True, db_default=True, help_text="The version of its panel that is shown and followed."
    )
    request_id = models.CharField(
        max_length=64, blank=True, default="", db_default="", help_text="The client's id for a regenerate."
    )
    temperature = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    max_output_tokens = models.PositiveIntegerField(
        null=True, blank=True, help_text="The reply's output limit the person set; None: the model's own."
    )
    text = models.TextField(blank=True)
    dropped_turns = models.PositiveIntegerField(default=0, help_text="Oldest turns left out to fit the context.")
    attachment_tokens = models.PositiveIntegerField(
        default=0, db_default=0, help_text="Of the input estimate: the tokens of the files attached (images, text)."
    )
    # Names the reply's log in Redis; unlike the id, it is never reused (a restored or new database
    # starts ids again while Redis still holds the logs of the old ones).
    stream_key = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)

    class Meta:
        ordering = ["turn_id", "panel"]
        constraints = [
            models.UniqueConstraint(fields=["turn", "panel", "version"], name="message_one_per_version"),
            models.UniqueConstraint(
                fields=["turn", "panel"], condition=Q(current=True), name="message_one_current_per_panel"
            ),
            models.UniqueConstraint(
                fields=["turn", "request_id"], condition=~Q(request_id=""), name="message_request_once_per_turn"
            ),
            models.CheckConstraint(condition=Q(panel__lt=4), name="message_at_most_four_panels"),
            models.CheckConstraint(condition=Q(credits__gte=0), name="message_credits_not_negative"),
            models.CheckConstraint(
                condition=Q(status="streaming") | Q(finished_at__isnull=False), name="message_finished_has_time"
            ),
        ]
        indexes = [models.Index(fields=["status"], condition=Q(status="streaming"), name="message_streaming")]

    def __str__(self):
        return f"{self.model.slug} reply {self.pk} ({self.status})"


def api_call_reference(call_id: int) -> str:
    """Return the reference of the hold that pays for one API call."""
    return f"api:{call_id}"


class ApiCall(ModelCall):
    """One request to the API's chat completions, made with an API key: its model, usage and cost.

    The prompt and the reply are not kept: programs send documents in bulk, and only what a call used and
    cost is needed to bill and report it.
    """

    public_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True, help_text="Its id in replies.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    api_key = models.ForeignKey("billing.ApiKey", on_delete=models.PROTECT, related_name="calls")
    streamed = models.BooleanField(help_text="Whether the program asked for the reply as a stream.")
    estimated_input_tokens = models.PositiveIntegerField(help_text="What the hold was sized on.")
    finish_reason = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(credits__gte=0), name="api_call_credits_not_negative"),
            models.CheckConstraint(
                condition=Q(status="streaming") | Q(finished_at__isnull=False), name="api_call_finished_has_time"
            ),
        ]
        indexes = [
            models.Index(fields=["api_key"], condition=Q(status="streaming"), name="api_call_streaming"),
            models.Index(fields=["user", "-created_at"], name="api_call_user_recent"),
        ]

    def __str__(self):
        return f"{self.model.slug} API call {self.pk} ({self.status})"


class Preset(models.Model):
    """A person's saved start of a chat: a system prompt, the models, and each panel's settings."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presets")
    name = models.CharField(max_length=80)
    system_prompt = models.TextField(blank=True)
    model_slugs = models.JSONField(default=list, help_text="Model slugs (or auto), one per panel.")
    panel_settings = models.JSONField(
        default=list, blank=True, help_text="Per panel: {temperature, max_output_tokens}, each null for the default."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="preset_name_once_per_user")]

    def __str__(self):
        return self.name


class SharedLink(models.Model):
    """A read-only link to a conversation's branch (or one turn) that its owner can revoke.

    The page behind it shows no wallet, email or cost unless `show_costs`; a revoked link is a 404.
    """

    token = models.CharField(max_length=64, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="shared_links")
    turn = models.ForeignKey(
        Turn, on_delete=models.CASCADE, null=True, blank=True, related_name="+", help_text="Only this turn, if set."
    )
    last_turn = models.ForeignKey(
        Turn,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="The branch shared ends here.",
    )
    show_costs = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Link to {self.conversation_id}" + (" (revoked)" if self.revoked_at else "")


def route_task_choices() -> list[tuple[str, str]]:
    """Return the tasks Auto tells apart, as choices."""
    return [(route.task.value, route.label) for route in TABLE]


class RouteRule(ConstraintErrorsOnFields, models.Model):
    """One row of Auto's routing table as an admin set it: the model a task goes to, and why.

    A task without an enabled rule goes to its built-in default (chat/router/table.py). A model that is off,
    unconfigured, too small for the prompt or over the person's ceiling is passed over for the next in line.
    """

    fields_by_violation_code = {"reason_blank": "reason"}

    task = models.CharField(max_length=64, unique=True, choices=route_task_choices)
    model = models.ForeignKey(AIModel, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=200, help_text="Why this model suits the task; shown with Auto's choice.")
    enabled = models.BooleanField(default=True, help_text="Off: Auto uses the built-in default for this task.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["task"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="route_rule_reason_not_blank",
                violation_error_code="reason_blank",
                violation_error_message="Say why this model suits the task; people see it with Auto's choice.",
            )
        ]

    def __str__(self):
        return f"{self.get_task_display()} → {self.model.slug}"


class ServerProcess(models.Model):
    """A server process that streams replies, and when it last said it was alive (its heartbeat).

    A reply whose process has stopped beating was cut by a crash, and is finished by whichever process
    notices first (chat/housekeeping.py).
    """

    id = models.UUIDField(primary_key=True, editable=False)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.hostname}:{self.pid}"
