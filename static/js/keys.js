// The API keys pages: copy a new key's secret, and show what a typed spend limit is worth in USD.
import { usdOfCredits } from "panels/format";

const secret = document.querySelector("[data-secret]");
const copyButton = document.querySelector("[data-copy-secret]");
const copyStatus = document.querySelector("[data-copy-status]");

if (secret && copyButton) {
  secret.addEventListener("focus", () => secret.select());
  copyButton.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(secret.value);
    } catch {
      secret.select();
      copyStatus.textContent = "Copying needs clipboard permission: the key is selected, copy it with your keyboard.";
      return;
    }
    copyButton.textContent = "Copied";
    copyStatus.textContent = "Copied to the clipboard.";
    setTimeout(() => (copyButton.textContent = "Copy"), 2000);
  });
}

// Credits as the server reads them: digits, with commas, spaces or underscores between (billing/forms.py).
const WHOLE_CREDITS = /^\d[\d,_ ]*$/;
const rate = document.querySelector("[data-credits-per-usd]")?.dataset.creditsPerUsd;

function showUsd(input, output) {
  const typed = input.value.trim();
  const digits = typed.replace(/[,_ ]/g, "");
  const shown = rate && WHOLE_CREDITS.test(typed) && BigInt(digits) > 0n;
  output.textContent = shown ? `= ${usdOfCredits(digits, rate)} at today's rate` : "";
}

for (const output of document.querySelectorAll("output[data-usd-of]")) {
  const input = document.getElementById(output.dataset.usdOf);
  if (!input) continue;
  input.addEventListener("input", () => showUsd(input, output));
  showUsd(input, output);
}
