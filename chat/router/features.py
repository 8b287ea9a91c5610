"""Signals in a prompt that say what kind of task it is: pure functions, no database and no network.

A prompt is read in two parts. The *request* is what the person asks: the opening and closing paragraphs,
where people put the ask around what they paste, plus any instruction in between; quoted or listed data is
left out. The *material* is the whole prompt, sampled at both ends when it is very long, so that a
400,000-character paste costs about what a 40,000-character one does. Words are looked for in the request (a
contract that mentions "email" is not a request for an email); shapes (code lines, list items, email headers,
chat turns) in the material.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

SHORT_PROMPT_CHARS = 1_500  # in a longer prompt only the paragraphs at each end can ask
REQUEST_PARAGRAPH_CHARS = 800  # a longer opening or closing paragraph is material, not the ask...
REQUEST_CLIP_CHARS = 400  # ...of which only this much is read as part of the request
MATERIAL_SAMPLE_CHARS = 20_000  # read at each end of a longer prompt


def _words(alternatives: str) -> re.Pattern:
    """Return a pattern matching any of the `|`-separated alternatives (regular expressions) as whole words."""
    return re.compile(r"(?<![\w-])(?:" + alternatives + r")(?![\w-])")


# Vocabulary groups, looked for in the lowercased request. Each is a family of words a task's prompts share,
# not a list of trigger phrases: the classifier weighs how many families agree.
REQUEST_VOCABULARY: dict[str, re.Pattern] = {
    "code": _words(
        r"code|codebase|snippet|function|functions|method|class|variable|regex|regexp|sql|bug|bugs|"
        r"stack ?trace|traceback|exception|compiler?|compiles?|borrow checker|lifetime|segfault|null ?pointer|"
        r"refactor\w*|diff|pull request|pr|merge|lint\w*|unit tests?|test|tests|ci|build|builds|dockerfile|"
        r"docker|terraform|kubernetes|component|re-?render\w*|endpoint|script|one-liner|repo|python|"
        r"javascript|typescript|java|golang|go file|rust|haskell|c\+\+|bash|shell|react|django|node|"
        r"implementations?|algorithm|recursion|loop|concurrency|thread-?safe|async|memory leak|syntax|compile|"
        r"programmer|junior dev|dev"
    ),
    "review": _words(
        r"review|explain|explanation|walk me through|line by line|step by step|what does|what's wrong|"
        r"whats wrong|what is wrong|why does|why is|spot|fix|debug|optimi[sz]e|faster|brutal|off-by-one|"
        r"security issues?|rejects?|re-?rendering|wrong with"
    ),
    "json": _words(
        r"json|schema|yaml|structured|object|objects|array|key/value|keys|fields?|null|template|record|"
        r"valid json|iso 8601|bool|booleans?"
    ),
    "extract": _words(
        r"extract|extraction|pull|pull out|parse|convert|fill|to json|structured data|capture|for each person|"
        r"every date|every medication"
    ),
    "classify": _words(
        r"classify|classification|categori[sz]e|category|categories|label|labels|tag|intent|intents|triage|"
        r"route|router|queue|department|taxonomy|one of|choose one|pick one|exactly one|label only|sentiment|"
        r"yes or no|yes/no|one word|confidence"
    ),
    "support": _words(
        r"customer|customers|tickets?|messages?|chat|caller|voicemail|inbox|support|zendesk|review snippets?|"
        r"complaint|inbound"
    ),
    "rank": _words(
        r"rank|ranked|rerank|re-rank|re-order|reorder|relevance|relevant|score|scores|scoring|judge|"
        r"most relevant|best answers?|which passage|contains the answer|how well|match|matches|"
        r"sorted by usefulness|usefulness|best first|top \d|evidence for"
    ),
    "retrieval": _words(
        r"query|q|question|passages?|chunks?|documents?|doc|docs|search|search results?|retriever|retrieval|"
        r"retrieved|vector search|candidates?|candidate answers|results|faq entry|faq entries|claim"
    ),
    "summary": _words(
        r"summari[sz]e|summary|summaries|tl;?dr|recap|condense|boil down|gist|shorten|key points|takeaways|"
        r"digest|brief|overview|synthesi[sz]e|synthesis|sum up|one-page|plain-language summary|"
        r"explain this abstract"
    ),
    "per_item": _words(
        r"each|every|per|one line|one sentence|one bullet|1 line|one line each|line per|batch|all of these|"
        r"these \d+|[\d,]+ of these|for each|\d+ words|crm|notes field|ops report|weekly|daily|"
        r"quick-reference|release notes"
    ),
    "audience": _words(
        r"readers?|audience|newsletter|blog|blog-ready|magazine|column|journalist|non-specialists?|"
        r"non-experts?|general audience|plain-language|plain language|accessible|donors|exhibit|visitors|"
        r"patients|families|council members|committee|investment committee|org-wide|executive summary|"
        r"headline|standfirst|polished|elegant|readable|engaging|well written|prose|in the style of|voice of|"
        r"high schooler|layperson|residents|gp audience|grant proposal|academic|honest|fair"
    ),
    "research": _words(
        r"paper|papers|study|studies|findings|research|abstracts?|trial|results|evidence|report|working paper|"
        r"literature|policy report|statistics"
    ),
    "email": _words(r"e-?mails?|letter|follow-?up|sign off|subject line|thread|template"),
    "reply": _words(r"reply|respond|draft|write back|compose|help me reply"),
    "recipient": _words(
        r"customers?|clients?|guest|prospect|subscribers|residents|tenants|users|wholesale|buyer|she|he|they|"
        r"her|him"
    ),
    "courtesy": _words(
        r"apologi[sz]e|apology|sorry|polite|politely|professional|warm|firm|friendly|concise|transparent|"
        r"accountable|not pushy|no guilt-tripping|doesn't sound cold|not sound cold|plain language|no jargon"
    ),
    "bot": _words(
        r"bot|chatbot|assistant|virtual assistant|chat widget|widget|live chat|helpdesk|agent|persona|"
        r"chat flows?|support chat|ordering assistant"
    ),
    "channel": _words(r"in-app|whatsapp|discord|conversation|website chat|messenger"),
    "persona": _words(r"you are|you're|act as|pretend|roleplay|role-play|be the|as the|in the bot's voice|system"),
    "turn": _words(
        r"next reply|say next|continue this conversation|user message|user turn|user asks|visitor|passenger|"
        r"employee|student|the customer says|message"
    ),
    "social": _words(
        r"instagram|insta|ig|tiktok|twitter|tweets?|tweet-length|linkedin|facebook|fb|threads|bluesky|"
        r"pinterest|pins|youtube shorts|shorts|reels?|stories|story text|social|socials|on x|for x|and x"
    ),
    "caption": _words(
        r"captions?|hashtags?|emojis?|post|posts|hooks?|one-liner|bio|\d+ char(?:acter)?s|characters|"
        r"overlays?|titles"
    ),
    "brand": _words(
        r"brand|brand's|branding|brand voice|voice|tagline|taglines|slogans?|manifesto|about us|copy|"
        r"copywriting|product description|landing page|hero|website copy|mascot|name ideas|names|packaging|ad|"
        r"radio ad|script|404|card message|holiday card|sounds like us|sound like us"
    ),
    "creative": _words(
        r"poem|poetry|story|short story|lyrics|song|haiku|limerick|fiction|narrative|chorus|verse|scene|"
        r"creative"
    ),
    "style": _words(
        r"playful|witty|irreverent|evocative|sensory|poetic|calm|minimal|folksy|heartfelt|melancholic|"
        r"melancholy|upbeat|confident|plainspoken|luxury|quiet luxury|cozy|cosy|whimsical|bold|quirky|"
        r"self-deprecating|fun|funny|punchy|snappy|romantic|earnest|lyrical|dry humour|cheeky|grumpy|hopeful|"
        r"grit|craft-focused|not cheesy|not preachy|not salesy|buzzwords|southern|small-town|casual"
    ),
    "document": _words(
        r"according to|based on|using only|answer from|from the document|document only|cite the section|"
        r"the above|above|below|in this paper|in the minutes|this handbook|our handbook|the manual|"
        r"the contract|the agreement|the policy|policy wording|this report|the report|the lease|"
        r"the transcript|this chapter|guidance|read this|given the agreement|pasting|attached|going only by"
    ),
}

# Vocabulary looked for in the material: the texture of a research paper or a report.
MATERIAL_VOCABULARY: dict[str, re.Pattern] = {
    "research": _words(
        r"study|studies|participants|randomi[sz]ed|trial|abstract|meta-analysis|cohort|hazard ratio|"
        r"confidence interval|ci|p ?[=<]|n ?=|et al|effect size|preregistered|sample|survey|evidence|"
        r"hypothes[ie]s|methodology|findings|statistically|significant|outcomes?|baseline|estimates?|"
        r"interviews|respondents|recommendations?|analysis|associated with|percentage points"
    ),
}

IMPERATIVE_VERBS = frozenset(
    """add adjust align analyze analyse answer apply avoid be build calculate check cite compare compute condense
    convert count create cut define describe design draft drop end ensure explain extract fill find fix flag
    focus format generate give group highlight identify include keep label lead leave list make mark mention
    move note offer order organize organise outline output pick plan point present prioritise prioritize
    produce propose provide put rank rate read recommend reference remove reorder replace reply respond return
    reuse rewrite say scale score select separate show sign sort split start state structure suggest summarize
    summarise swap tag take tell translate turn use weight write""".split()  # noqa: SIM905 (a word list reads as text)
)
CONSTRAINT_OPENERS = re.compile(
    r"(?:no|never|don'?t|do not|must|should|only|max|maximum|at least|at most|under|less than|fewer than|"
    r"no more than|every|each|all|without|exactly|up to|budget|within)\b"
)
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
SENTENCE_SPLIT = re.compile(r"[.!?](?:\s|$)|;\s")
CLAUSE_SPLIT = re.compile(r":\s|,\s|\s(?=(?:and|then)\s)")
SEQUENCER = re.compile(r"(?:and\s+)?(?:then|finally|next|after that|lastly|step \d+)\b")
REQUIREMENTS = re.compile(r"\b(?:include|including|must have|must include|requirements|constraints|rules)\b")
LABELLED_DATA = re.compile(r"^\s*(?!step\b)[a-z][\w-]{0,12} ?[a-z0-9]{1,3}\s*[:|]\s")
CLAUSE_FILLER = re.compile(
    r"^(?:[-*•]\s*|\(?[a-z0-9]{1,2}[.)]\s*|step \d+:?\s*|please\s+|also\s+|first,?\s+|then,?\s+|finally,?\s+|"
    r"next,?\s+|and\s+|after that,?\s+|lastly,?\s+)+"
)

FENCE = re.compile(r"^\s*```\s*([\w+-]*)", re.MULTILINE)
DATA_FENCE_LANGUAGES = frozenset({"json", "yaml", "yml", "csv", "text", "txt", "markdown", "md", "xml"})
CODE_LINE = re.compile(  # case matters: "Return the label" and "Where is my order?" are prose
    r"^\s*(?:def |class \w|import \w|from [\w.]+ import |return\b.*[;)\]}]\s*$|fn |func |function\b|const |let |"
    r"var |public |private |static |package \w|#include|using \w+;|if \(|for \(|while \(|} else|"
    r"(?:SELECT|WITH \w+ AS \(|FROM|WHERE|GROUP BY|ORDER BY|INSERT INTO|UPDATE|CREATE TABLE)\b|select .+ from |"
    r"resource \"|module \"|(?:FROM|RUN|CMD|COPY|ENV|EXPOSE|WORKDIR) \S|"
    r"@@ |\+\+\+ |--- a/|at [\w.$]+\([\w.]+:\d+\)|File \".+\", line \d+|error\[E\d+\]|Traceback|"
    r"\w+ :: |[\w.]+\(.*\)\s*;?$)"
    r"|[{};]\s*$|\)\s*(?:->|=>)|=>\s*\{|::|!=|==|&&|\|\||\+=|:="
)
LIST_ITEM = re.compile(
    r"^\s*(?:[-*•]\s|\d{1,3}[.):]\s|\(?[a-z0-9]{1,2}\)\s|\[[\w -]{1,12}\]\s|#\d+\b|"
    r"[a-z][\w-]{0,12}[ _=-]?[0-9a-z]{1,5}\s*[:|\u2014)-]\s|[a-z]{1,10} [a-z0-9]{1,3}[.:]\s)",
    re.IGNORECASE,
)
TURN_LINE = re.compile(
    r"^\s*(?:user|customer|bot|assistant|visitor|passenger|student|system|agent|rep|caller)"
    r"(?: \([\w ]+\))?\s*:",
    re.IGNORECASE,
)
EMAIL_HEADER = re.compile(
    r"^\s*(?:>\s*)*(?:subject:|from:|to:|dear\b|hi \w+,|hello \w+,|regards|best regards|"
    r"sincerely|kind regards|thanks,$|cheers,$)",
    re.IGNORECASE,
)
CODE_SYMBOLS = re.compile(r"[{}()\[\];=<>^$*\\&]")
QUOTES = frozenset("\"'\u201c\u201d\u2018\u2019")
DATA_LINE = re.compile(r"^\s*(?:>|from:|to:|subject:|date:)", re.IGNORECASE)
FIELD_NAME = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b|\"[a-z_]+\"\s*:")
JSON_SHAPE = re.compile(r"\{\s*\"[\w ]+\"\s*:|\[\s*\{|\{[a-z_]+,\s*[a-z_]+")
QUESTION_OPENER = re.compile(
    r"(?:^|[.?!]\s+|\n)(?:q:|questions?:|\(?\d\)\s*)?\s*(?:what|when|where|who|whom|why|how|which|does|do|did|is|"
    r"are|was|were|can|could|should|will|would|has|have)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Features:
    """What the classifier sees of one prompt: sizes, shapes, and the vocabulary families found."""

    document_chars: int  # characters outside the request: pasted material
    code_fences: int  # fenced blocks of code (not ```json and other data fences)
    code_lines: int
    code_share: float  # code lines over non-blank lines of the material
    list_items: int  # enumerated, lettered or bulleted lines of data: candidates, tickets, reviews
    directives: int  # distinct instructions in the request: imperative clauses and constraints
    instruction_items: int  # list lines of the request that instruct ("- use British spelling", "2) sort...")
    questions: int  # question marks and question openers in the request
    chat_turns: int  # lines that open with a speaker, e.g. "User:" or "Customer:"
    email_lines: int  # email headers, greetings and sign-offs
    field_names: int  # snake_case names and JSON keys in the request
    json_shape: bool  # a JSON object or array template in the prompt
    request_words: Mapping[str, tuple[str, ...]]  # family -> distinct words of the family in the request
    material_hits: Mapping[str, int]  # family -> occurrences in the material (per family, all words)

    def words(self, family: str) -> tuple[str, ...]:
        """Return the distinct words of `family` found in the request."""
        return self.request_words.get(family, ())


def request_of(text: str) -> str:
    """Return the part of `text` that asks: its opening and closing paragraphs and any instruction between them.

    In a short prompt, a paragraph that is a list of data (tickets, passages, chat turns, quoted email) is
    material, not the ask. In a long prompt only the two paragraphs at each end can ask, and only those that
    give an instruction or put a question do. Only the start of a paragraph longer than REQUEST_PARAGRAPH_CHARS
    is read.
    """
    paragraphs = [paragraph for paragraph in PARAGRAPH_BREAK.split(text) if paragraph.strip()]
    if len(paragraphs) < 2:
        return text if len(text) <= SHORT_PROMPT_CHARS else text[:REQUEST_CLIP_CHARS] + "\n\n" + text[-300:]
    first, *inner, last = paragraphs
    if len(text) <= SHORT_PROMPT_CHARS:
        chosen = [p for p in [first, *(p for p in inner if count_directives(p)), last] if not is_material(p)]
    else:  # the middle of a long prompt is the pasted document, and either end may be the document too
        chosen = [p for p in [first, *inner[:1], *inner[1:][-1:], last] if asks(p)]
    parts = [p if len(p) <= REQUEST_PARAGRAPH_CHARS else p[:REQUEST_CLIP_CHARS] for p in chosen]
    return "\n\n".join(parts) or text[:REQUEST_CLIP_CHARS]


def asks(paragraph: str) -> bool:
    """Return whether `paragraph` asks something: it gives an instruction or puts a question."""
    return "?" in paragraph or count_directives(paragraph) > 0


def is_material(paragraph: str) -> bool:
    """Return whether `paragraph` is quoted or listed data rather than the ask.

    Data is a quotation (optionally under a label line such as "Customer:"), quoted email lines ("> ..."), or
    a list most of whose lines are items that do not instruct (tickets, passages, chat turns, headers).
    """
    lines = [line for line in paragraph.splitlines() if line.strip()]
    body = (
        "\n".join(lines[1:])
        if len(lines) > 1 and len(lines[0]) <= 60 and lines[0].rstrip().endswith(":")
        else paragraph
    )
    body = body.strip()
    if body[:1] in QUOTES and body.rstrip(".,;!? ")[-1:] in QUOTES:
        return True
    if all(line.lstrip().startswith(">") for line in lines):
        return True
    if len(lines) < 3:
        return False
    items = [line for line in lines if LIST_ITEM.match(line) or TURN_LINE.match(line) or DATA_LINE.match(line)]
    instructions = sum(1 for line in items if is_instruction_item(line))
    return len(items) >= 0.6 * len(lines) and instructions < len(items) / 2


def is_instruction_item(line: str) -> bool:
    """Return whether a list line gives an instruction ("- use British spelling") rather than data."""
    return count_directives(LIST_ITEM.sub("", line, count=1)) > 0


def material_of(text: str) -> str:
    """Return the material to measure: all of `text`, or its two ends when it is very long."""
    if len(text) <= 2 * MATERIAL_SAMPLE_CHARS:
        return text
    return text[:MATERIAL_SAMPLE_CHARS] + "\n" + text[-MATERIAL_SAMPLE_CHARS:]


def count_directives(request: str) -> int:
    """Return how many instructions `request` gives.

    An instruction is a clause that opens with an imperative verb, a constraint ("no more than", "every"), or
    a sequencer ("then", "finally", "step 2"); each item of a requirement list ("include a, b and c") counts.
    Lines that are labelled data ("Answer A: use git revert") are not instructions.
    """
    count = 0
    for line in request.lower().splitlines():
        if LABELLED_DATA.match(line):
            continue
        for sentence in SENTENCE_SPLIT.split(line):
            in_requirements = False
            for clause in CLAUSE_SPLIT.split(sentence):
                clause = clause.strip()
                stripped = CLAUSE_FILLER.sub("", clause)
                if not stripped:
                    continue
                sequenced = SEQUENCER.match(clause) is not None
                first = stripped.split(maxsplit=1)[0].strip("\"'(")
                if sequenced or in_requirements or first in IMPERATIVE_VERBS or CONSTRAINT_OPENERS.match(stripped):
                    count += 1
                in_requirements = in_requirements or REQUIREMENTS.search(clause) is not None
    return count


def symbol_dense(line: str) -> bool:
    """Return whether `line` is dense with the punctuation of code or a regular expression (prose is not)."""
    visible = len(line) - line.count(" ")
    return visible >= 10 and len(CODE_SYMBOLS.findall(line)) >= 0.15 * visible


def code_lines_of(material: str) -> tuple[int, int]:
    """Return (fenced code blocks, lines that look like code), ignoring lines inside data fences (```json)."""
    fences = lines = 0
    in_fence = False
    data_fence = False
    for line in material.splitlines():
        opener = FENCE.match(line)
        if opener:
            if not in_fence:
                data_fence = opener.group(1).lower() in DATA_FENCE_LANGUAGES
                fences += 0 if data_fence else 1
            in_fence = not in_fence
            continue
        if in_fence and data_fence:
            continue
        if line.strip() and (CODE_LINE.search(line) or symbol_dense(line)):
            lines += 1
    return fences, lines


def extract(text: str) -> Features:
    """Return the features of one prompt."""
    request = request_of(text)
    lowered = request.lower()
    material = material_of(text)
    lines = [line for line in material.splitlines() if line.strip()]
    fences, code_lines = code_lines_of(material)
    request_words = {}
    for family, pattern in REQUEST_VOCABULARY.items():
        found = tuple(dict.fromkeys(pattern.findall(lowered)))
        if found:
            request_words[family] = found
    material_lower = material.lower()
    return Features(
        document_chars=max(0, len(text) - len(request)),
        code_fences=fences,
        code_lines=code_lines,
        code_share=code_lines / len(lines) if lines else 0.0,
        list_items=sum(1 for line in lines if LIST_ITEM.match(line) and not is_instruction_item(line)),
        directives=count_directives(request),
        instruction_items=sum(
            1 for line in request.splitlines() if LIST_ITEM.match(line) and is_instruction_item(line)
        ),
        questions=request.count("?") + len(QUESTION_OPENER.findall(request)),
        chat_turns=sum(1 for line in lines if TURN_LINE.match(line)),
        email_lines=sum(1 for line in lines if EMAIL_HEADER.match(line)),
        field_names=len(set(FIELD_NAME.findall(request))),
        json_shape=bool(JSON_SHAPE.search(material)),
        request_words=request_words,
        material_hits={family: len(pattern.findall(material_lower)) for family, pattern in MATERIAL_VOCABULARY.items()},
    )
