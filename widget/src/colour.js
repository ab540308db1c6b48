// Colour contrast (WCAG 2 definitions), to pick text that stays readable on the
// page's chosen primary colour.

export const DARK_TEXT = "#212b32";
export const LIGHT_TEXT = "#ffffff";

export function parseRgb(value) {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(value.trim());
  if (hex) {
    let digits = hex[1];
    if (digits.length === 3) digits = digits.replace(/./g, "$&$&");
    return [0, 2, 4].map((i) => parseInt(digits.slice(i, i + 2), 16));
  }
  const rgb = /^rgba?\(\s*(\d+)[\s,]+(\d+)[\s,]+(\d+)/i.exec(value.trim());
  return rgb ? rgb.slice(1, 4).map(Number) : null;
}

function luminance([r, g, b]) {
  const linear = (c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

export function contrast(a, b) {
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (high + 0.05) / (low + 0.05);
}

// Any CSS colour the browser understands, as [r, g, b] (null if it is not a colour).
export function resolveColour(value, scratch) {
  const direct = parseRgb(value);
  if (direct) return direct;
  scratch.style.color = "";
  scratch.style.color = value;
  if (!scratch.style.color) return null;
  return parseRgb(getComputedStyle(scratch).color);
}

// Colours for the theme: the primary colour, the text on it, and the colour for
// primary-coloured text on white (the primary itself when it is dark enough).
export function theme(primary) {
  const white = [255, 255, 255];
  const dark = parseRgb(DARK_TEXT);
  const onPrimary = contrast(primary, white) >= contrast(primary, dark) ? LIGHT_TEXT : DARK_TEXT;
  const css = `rgb(${primary.join(", ")})`;
  return {
    primary: css,
    onPrimary,
    accentOnWhite: contrast(primary, white) >= 4.5 ? css : DARK_TEXT,
    contrastOnPrimary: contrast(primary, parseRgb(onPrimary)),
  };
}
