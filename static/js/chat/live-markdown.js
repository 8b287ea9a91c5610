// A reply arrives as many small deltas. Re-parsing the whole reply per delta is what makes other chat UIs
// fall behind the model, so: deltas are buffered and drawn at most once per animation frame; blocks that
// are finished (a blank line outside a code fence, then an unindented line) are parsed once and kept; only
// the open last block is parsed again. When the reply ends, the whole text is parsed once, so a list or
// quote that was split at a blank line while streaming ends up exactly as markdown means it.
import { decorateCodeBlocks, renderMarkdown } from "panels/markdown";

const FENCE = /^ {0,3}(`{3,}|~{3,})/;

export class LiveMarkdown {
  constructor(element) {
    this.element = element;
    this.reset("");
  }

  reset(source) {
    // A draw scheduled for the old text must not run over the new one (it would add its blocks again).
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = null;
    this.source = source;
    this.committed = 0; // source[0:committed] is parsed and shown in `this.kept`
    this.scanned = 0; // where the next unclassified line starts
    this.fence = null; // the marker of the code fence we are inside, if any
    this.previousBlank = false;
    this.kept = document.createElement("div");
    this.live = document.createElement("div");
    this.kept.className = this.live.className = "md-part";
    this.element.replaceChildren(this.kept, this.live);
  }

  get text() {
    return this.source;
  }

  append(text) {
    this.source += text;
    this.frame ??= requestAnimationFrame(() => this.draw());
  }

  /** Show `source` whole, parsed once (a finished reply, or the end of a stream). */
  finish(source = this.source) {
    this.reset(source);
    this.kept.append(render(source));
  }

  draw() {
    if (this.frame) cancelAnimationFrame(this.frame); // drawn now: the scheduled draw has nothing left to do
    this.frame = null;
    for (let boundary; (boundary = this.nextBoundary()) !== null; ) {
      this.kept.append(render(this.source.slice(this.committed, boundary)));
      this.committed = boundary;
    }
    const tail = this.source.slice(this.committed);
    this.live.replaceChildren(tail ? render(tail) : "");
  }

  /** Return the start of the next finished block's successor, or null when none is known yet. */
  nextBoundary() {
    for (;;) {
      const end = this.source.indexOf("\n", this.scanned);
      if (end < 0) return null; // only whole lines are classified
      const start = this.scanned;
      const line = this.source.slice(start, end);
      this.scanned = end + 1;
      const blank = line.trim() === "";
      const fence = FENCE.exec(line);
      if (this.fence) {
        const closes = fence && fence[1][0] === this.fence[0] && fence[1].length >= this.fence.length;
        if (closes && line.trim() === fence[1]) this.fence = null;
        continue;
      }
      const boundary = this.previousBlank && !blank && !/^\s/.test(line) && start > this.committed;
      this.previousBlank = blank;
      if (fence) this.fence = fence[1];
      if (boundary) return start;
    }
  }
}

function render(source) {
  const fragment = renderMarkdown(source);
  decorateCodeBlocks(fragment);
  return fragment;
}
