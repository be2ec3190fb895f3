/**
 * The only way the explorer builds DOM: element + class + text. Data from archives (names, link targets, commands,
 * file contents) is hostile, so it only ever reaches the page through `textContent` and `setAttribute('title')`,
 * never through HTML parsing.
 */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function icon(name: string, extra = ''): HTMLSpanElement {
  const s = el('span', `codicon codicon-${name}${extra ? ' ' + extra : ''}`);
  s.setAttribute('aria-hidden', 'true');
  return s;
}

export function button(label: string, iconName: string | null, onClick: () => void, title?: string): HTMLButtonElement {
  const b = el('button', 'btn');
  b.type = 'button';
  if (iconName) b.append(icon(iconName));
  if (label) b.append(el('span', undefined, label));
  if (title) b.title = title;
  b.addEventListener('click', onClick);
  return b;
}

export function clear(node: Element): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}
