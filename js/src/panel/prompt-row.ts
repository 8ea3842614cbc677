/**
 * The prompt and the buttons beside it: Generate, Stop and Skip (which of them shows is decided
 * by ./view-wiring from busy and the connection) and Load image.
 */

import type { PanelSchema } from '../common/schema';
import type { PanelActions } from './actions';
import type { Binder } from './bind';
import { h } from './dom';
import { keepEnter } from './form';
import { loadImageButton } from './gallery';
import { textMaxLength } from './schema';

/** The buttons whose visibility follows the kernel (busy, connected). */
export interface RunButtons {
  generate: HTMLButtonElement;
  stop: HTMLButtonElement;
  skip: HTMLButtonElement;
}

export function promptRow(b: Binder, schema: PanelSchema, actions: PanelActions): { element: HTMLElement; buttons: RunButtons } {
  const prompt = h('textarea', 'fw-input fw-prompt', {
    rows: '3', 'data-fw': 'prompt', placeholder: 'Type a prompt here', 'aria-label': 'Prompt'
  });
  // no maxLength attribute: the browser would cut a long paste silently; the binder refuses it
  b.text('prompt', prompt, { maxLength: textMaxLength(schema, 'prompt'), label: 'prompt' });
  keepEnter(b, prompt);

  const generate = h('button', 'fw-button fw-primary', { type: 'button', 'data-fw': 'generate' }, ['Generate']);
  const stop = h('button', 'fw-button', { type: 'button', 'data-fw': 'stop', hidden: '' }, ['Stop']);
  const skip = h('button', 'fw-button', { type: 'button', 'data-fw': 'skip', hidden: '' }, ['Skip']);
  b.listen(generate, 'click', () => actions.generate());
  b.listen(stop, 'click', () => actions.stop());
  b.listen(skip, 'click', () => actions.skip());
  const element = h('div', 'fw-prompt-row', {}, [
    prompt,
    h('div', 'fw-actions', {}, [generate, stop, skip, loadImageButton(b, file => actions.loadImage(file))])
  ]);
  return { element, buttons: { generate, stop, skip } };
}
