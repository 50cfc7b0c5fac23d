// Pair page: pointing at a passage lights it up on both sides and in the table.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const numbered = document.querySelectorAll("[data-p]");
  if (!numbered.length) return;
  const light = (numbers, on) => {
    for (const n of numbers) {
      for (const el of numbered) {
        if (el.dataset.p.split(" ").includes(n)) el.classList.toggle("active", on);
      }
    }
  };
  for (const el of numbered) {
    const numbers = el.dataset.p.split(" ");
    el.addEventListener("mouseenter", () => light(numbers, true));
    el.addEventListener("mouseleave", () => light(numbers, false));
  }
});
