"""Whether a page's layout holds at its width: nothing scrolls sideways or reaches past the edges."""

from __future__ import annotations

from playwright.async_api import Page

# Why the layout broke, if it did: the page scrolls sideways, something reaches past the viewport's
# edges, or an element's content overflows its box. Elements inside a box of at most 1 px (shown to
# screen readers only) and boxes that clip on purpose (an ellipsis) are not layout.
LAYOUT_PROBLEMS = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  const whole = document.documentElement.scrollWidth;
  if (whole > width) found.push(`the page scrolls sideways (${whole} > ${width})`);
  const name = (el) => el.tagName.toLowerCase() + (el.id ? `#${el.id}` : '')
    + [...el.classList].map((c) => `.${c}`).join('');
  const readerOnly = (el) => {
    for (let a = el; a; a = a.parentElement) if (a.getBoundingClientRect().width <= 1) return true;
    return false;
  };
  for (const el of document.querySelectorAll('body *')) {
    if (!el.getClientRects().length || readerOnly(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.left < -1 || box.right > width + 1) {
      found.push(`${name(el)} spans ${Math.round(box.left)}..${Math.round(box.right)} of ${width}`);
    }
    const clips = ['hidden', 'clip'].includes(getComputedStyle(el).overflowX);
    if (!clips && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
      found.push(`${name(el)} overflows (${el.scrollWidth} > ${el.clientWidth})`);
    }
  }
  return found;
}"""


async def layout_problems(page: Page) -> list[str]:
    """What breaks the layout of the page as it is now, described; empty when it holds."""
    found: list[str] = await page.evaluate(LAYOUT_PROBLEMS)
    return found
