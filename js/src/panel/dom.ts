/**
 * Small DOM builders for the panel. Every piece of text goes in through `textContent` or a
 * property, never through HTML: prompts, file names and error messages are untrusted.
 */

type Attrs = Record<string, string>;

/** An element with a class, `data-*`/other attributes and children (strings become text nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  attrs: Attrs = {},
  children: (Node | string)[] = []
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (className) el.className = className;
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  for (const child of children) el.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return el;
}

/** Replace a <select>'s options; a value not among them is kept as a marked extra option. */
export function setOptions(
  select: HTMLSelectElement,
  values: readonly string[],
  current: string,
  label: (value: string) => string = v => v,
  missingLabel: (value: string) => string = v => `${v} (not found)`
): void {
  const option = (text: string, value: string): HTMLOptionElement => {
    const o = document.createElement('option');
    o.textContent = text;
    o.value = value;
    return o;
  };
  const options = values.map(v => option(label(v), v));
  if (current && !values.includes(current)) options.unshift(option(missingLabel(current), current));
  select.replaceChildren(...options);
  select.value = current;
}

/** A labelled field: `<label class="fw-field"><span>Label</span>control</label>`. */
export function field(label: string, control: HTMLElement, extra: (Node | string)[] = []): HTMLLabelElement {
  return h('label', 'fw-field', {}, [h('span', 'fw-label', {}, [label]), control, ...extra]);
}

/** Calls `fn` once things have been quiet for `ms` (trailing edge), with a way to flush early. */
export function debounce(fn: () => void, ms: number): { (): void; flush(): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = (): void => {
    timer = undefined;
    fn();
  };
  const call = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(run, ms);
  };
  call.flush = (): void => {
    if (timer !== undefined) {
      clearTimeout(timer);
      run();
    }
  };
  call.cancel = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  return call;
}

/** Mark a field whose text would be refused (red border, the reason on hover), or clear the mark. */
export function markInvalid(input: HTMLInputElement, problem: string | null): void {
  if (problem === null) {
    input.removeAttribute('aria-invalid');
    input.removeAttribute('title');
  } else {
    input.setAttribute('aria-invalid', 'true');
    input.title = problem;
  }
}

/** Parse a number input; `null` when it holds no finite number. */
export function readNumber(input: HTMLInputElement): number | null {
  const n = input.valueAsNumber;
  return Number.isFinite(n) ? n : null;
}

/** Clamp to [lo, hi] and snap to `step` from `lo`, without binary float noise. */
export function clampStep(value: number, lo: number, hi: number, step: number): number {
  const snapped = lo + Math.round((value - lo) / step) * step;
  const decimals = (String(step).split('.')[1] ?? '').length;
  return Number(Math.min(hi, Math.max(lo, snapped)).toFixed(decimals));
}

/** "1152*896" -> "1152×896", the way Fooocus shows sizes. */
export function sizeLabel(ratio: string): string {
  return ratio.replace('*', '×');
}
