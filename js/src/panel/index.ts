/**
 * The FooocusPanel front end (anywidget ESM): builds the panel's DOM, binds every control to
 * the model's traits and sends the action buttons to the kernel as custom messages.
 */

import type { AnyModel, RenderProps } from '@anywidget/types';
import {
  PANEL_READY_EVENT,
  PANEL_RECONNECT_EVENT,
  type PanelReadyDetail,
  type PanelReconnectDetail
} from '../common/events';
import { ConnectionMonitor } from './connection';
import { Binder } from './bind';
import { loraSlots, seedControl, stylePicker } from './controls';
import { field, h, sizeLabel } from './dom';
import { gallery, loadImageButton, progressBar } from './gallery';
import { STATE_KEYS, type PanelModel } from './model';
import { StateMirror } from './persist';
import './panel.css';

type Model = AnyModel<PanelModel>;

/** A collapsible section of the side column. */
function section(title: string, open: boolean, children: HTMLElement[], name: string): HTMLDetailsElement {
  const details = h('details', 'fw-section', { 'data-fw-section': name }, [
    h('summary', 'fw-summary', {}, [title]),
    ...children
  ]);
  details.open = open;
  return details;
}

/**
 * JupyterLab's notebook cancels a plain Enter typed into a textarea inside a cell's output
 * (it guards Shift+Enter): keep Enter inside our text fields.
 */
function keepEnter(b: Binder, el: HTMLElement): void {
  b.listen(el, 'keydown', (ev: KeyboardEvent) => {
    if (ev.key === 'Enter' && !ev.ctrlKey && !ev.metaKey && !ev.altKey) ev.stopPropagation();
  });
}

function numberInput(attrs: Record<string, string>): HTMLInputElement {
  return h('input', 'fw-input fw-number', { type: 'number', ...attrs });
}

function buildSettings(b: Binder, m: Model): HTMLElement {
  const performance = h('select', 'fw-input', { 'data-fw': 'performance' });
  b.select('performance', performance, () => m.get('choices').performances ?? []);
  const ratio = h('select', 'fw-input', { 'data-fw': 'aspect-ratio' });
  b.select('aspect_ratio', ratio, () => m.get('choices').aspect_ratios ?? [], sizeLabel);
  const count = numberInput({ min: '1', max: '32', step: '1', 'data-fw': 'image-number' });
  b.number('image_number', count);
  const format = h('select', 'fw-input', { 'data-fw': 'output-format' });
  b.select('output_format', format, () => m.get('choices').output_formats ?? []);
  const negative = h('textarea', 'fw-input fw-negative', {
    rows: '2', 'data-fw': 'negative-prompt', placeholder: 'Describe what you do not want to see'
  });
  b.text('negative_prompt', negative);
  keepEnter(b, negative);
  return section('Settings', true, [
    field('Performance', performance),
    field('Aspect ratio', ratio),
    h('div', 'fw-grid2', {}, [field('Image number', count), field('Output format', format)]),
    field('Negative prompt', negative),
    seedControl(b)
  ], 'settings');
}

function buildModels(b: Binder, m: Model): HTMLElement {
  const base = h('select', 'fw-input', { 'data-fw': 'base-model' });
  b.select('base_model', base, () => ['', ...(m.get('choices').models ?? [])], v => (v === '' ? 'Choose a model' : v));
  const refresh = h('button', 'fw-button fw-small', { type: 'button', 'data-fw': 'refresh', title: 'Look for new model files' }, ['Refresh']);
  b.listen(refresh, 'click', () => m.send({ type: 'refresh' }));
  const hint = h('div', 'fw-hint', { 'data-fw': 'models-hint' });
  const showHint = (): void => {
    hint.textContent = m.get('choices').models_hint ?? '';
    hint.hidden = !hint.textContent;
  };
  b.watch('choices', showHint);
  showHint();
  const meter = h('button', 'fw-meter', { type: 'button', 'data-fw': 'memory', title: 'Memory in use: click to update' });
  b.listen(meter, 'click', () => m.send({ type: 'memory' }));
  const gib = (n: number | null | undefined): string => (n ? `${(n / 1024 ** 3).toFixed(1)} GB` : '');
  const showMeter = (): void => {
    const mem = m.get('memory') ?? {};
    const vram = mem.vram_total ? `VRAM ${gib(mem.vram_used ?? 0) || '0.0 GB'} / ${gib(mem.vram_total)}` : 'no GPU';
    meter.textContent = mem.rss ? `RAM ${gib(mem.rss)} · ${vram}` : 'Memory: click to measure';
  };
  b.watch('memory', showMeter);
  showMeter();
  const free = h('button', 'fw-button fw-small', { type: 'button', 'data-fw': 'free-memory', title: 'Unload models and give GPU and RAM back' }, ['Free memory']);
  b.listen(free, 'click', () => m.send({ type: 'free-memory' }));
  return section('Models', true, [
    field('Base model', h('div', 'fw-row', {}, [base, refresh])),
    hint,
    h('div', 'fw-label', {}, ['LoRAs']),
    loraSlots(b),
    h('div', 'fw-row fw-memory', {}, [meter, free])
  ], 'models');
}

function buildAdvanced(b: Binder, m: Model): HTMLElement {
  const gRange = h('input', 'fw-range', { type: 'range', min: '1', max: '30', step: '0.1', 'aria-label': 'Guidance scale slider' });
  const guidance = numberInput({ min: '1', max: '30', step: '0.1', 'data-fw': 'guidance-scale' });
  b.number('guidance_scale', guidance, gRange);
  const sampler = h('select', 'fw-input', { 'data-fw': 'sampler' });
  b.select('sampler', sampler, () => m.get('choices').samplers ?? []);
  const scheduler = h('select', 'fw-input', { 'data-fw': 'scheduler' });
  b.select('scheduler', scheduler, () => m.get('choices').schedulers ?? []);
  const clipSkip = numberInput({ min: '1', max: '12', step: '1', 'data-fw': 'clip-skip' });
  b.number('clip_skip', clipSkip);
  const memoryMode = h('select', 'fw-input', { 'data-fw': 'memory-mode' });
  b.select('memory_mode', memoryMode, () => m.get('choices').memory_modes ?? ['auto']);
  return section('Advanced', false, [
    field('Guidance scale', h('div', 'fw-row', {}, [gRange, guidance])),
    h('div', 'fw-grid2', {}, [field('Sampler', sampler), field('Scheduler', scheduler)]),
    h('div', 'fw-grid2', {}, [field('CLIP skip', clipSkip), field('Memory mode', memoryMode)])
  ], 'advanced');
}

function buildErrorArea(b: Binder, m: Model): HTMLElement {
  const text = h('span', 'fw-error-text');
  const dismiss = h('button', 'fw-dismiss', { type: 'button', 'aria-label': 'Dismiss' }, ['×']);
  const box = h('div', 'fw-error', { role: 'alert', 'data-fw': 'error' }, [text, dismiss]);
  const show = (): void => {
    text.textContent = m.get('error');
    box.hidden = !m.get('error');
  };
  b.listen(dismiss, 'click', () => b.commit('error', ''));
  b.watch('error', show);
  show();
  return box;
}

/** "A batch was interrupted…" with Resume and Discard, shown when the kernel died mid-batch. */
function resumeBanner(b: Binder, model: Model): HTMLElement {
  const text = h('span', 'fw-resume-text');
  const resume = h('button', 'fw-button fw-small', { type: 'button', 'data-fw': 'resume' }, ['Resume']);
  const discard = h('button', 'fw-button fw-small', { type: 'button', 'data-fw': 'discard-pending' }, ['Discard']);
  const banner = h('div', 'fw-resume', { 'data-fw': 'resume-banner', role: 'status' }, [text, resume, discard]);
  b.listen(resume, 'click', () => model.send({ type: 'resume' }));
  b.listen(discard, 'click', () => model.send({ type: 'discard-pending' }));
  const show = (): void => {
    const p = model.get('pending') ?? {};
    const total = p.seeds?.length ?? 0;
    const done = p.done ?? 0;
    banner.hidden = model.get('busy') || total === 0 || done >= total;
    text.textContent = `A batch was interrupted after ${done} of ${total} images. Resume the remaining ${total - done} with the same seeds?`;
  };
  b.watch('pending', show);
  b.watch('busy', show);
  show();
  return banner;
}

function render({ model, el }: RenderProps<PanelModel>): () => void {
  const b = new Binder(model);
  let monitor: ConnectionMonitor | null = null;
  const mirror = new StateMirror(model, el, location.pathname, () => monitor?.state === 'live');
  for (const key of [...STATE_KEYS, 'revision', 'results', 'pending'] as const) {
    b.watch(key, () => mirror.changed(monitor?.state === 'live' ? 'kernel' : 'local'));
  }

  const prompt = h('textarea', 'fw-input fw-prompt', {
    rows: '3', 'data-fw': 'prompt', placeholder: 'Type a prompt here', 'aria-label': 'Prompt'
  });
  b.text('prompt', prompt);
  keepEnter(b, prompt);

  const action = (type: string): void => {
    b.flush(); // the kernel must see the prompt as typed, not as it was 150 ms ago
    model.send({ type });
  };
  const generate = h('button', 'fw-button fw-primary', { type: 'button', 'data-fw': 'generate' }, ['Generate']);
  const stop = h('button', 'fw-button', { type: 'button', 'data-fw': 'stop', hidden: '' }, ['Stop']);
  const skip = h('button', 'fw-button', { type: 'button', 'data-fw': 'skip', hidden: '' }, ['Skip']);
  b.listen(generate, 'click', () => action('generate'));
  b.listen(stop, 'click', () => action('stop'));
  b.listen(skip, 'click', () => action('skip'));
  const reconnect = (): void => {
    if (!monitor || monitor.state === 'reconnecting') return;
    monitor.reconnecting();
    b.flush();
    mirror.flush();
    const detail: PanelReconnectDetail = {
      key: model.get('key'),
      record: mirror.record(),
      done: (ok, message) => {
        if (!ok) monitor?.failed(message);
      }
    };
    // the extension answers synchronously by cancelling the event
    const handled = !el.dispatchEvent(new CustomEvent(PANEL_RECONNECT_EVENT, { bubbles: true, cancelable: true, detail }));
    if (!handled) {
      monitor.failed('The kernel restarted. Run this cell again: your settings are saved and come back with it.');
    }
  };
  monitor = new ConnectionMonitor(b, model, reconnect);
  const showBusy = (): void => {
    const busy = model.get('busy');
    const live = monitor?.state === 'live';
    generate.hidden = busy || !live;
    stop.hidden = !busy || !live;
    skip.hidden = !busy || !live;
  };
  b.watch('busy', showBusy);
  monitor.onChange(showBusy);
  showBusy();

  const notice = h('div', 'fw-notice', { 'data-fw': 'notice', role: 'status' });
  const showNotice = (): void => {
    notice.textContent = model.get('notice') ?? '';
    notice.hidden = !notice.textContent;
  };
  b.watch('notice', showNotice);
  showNotice();

  let root: HTMLElement | null = null;
  const results = gallery(b, () => root ?? el);
  const main = h('div', 'fw-main', {}, [
    results.element,
    progressBar(b),
    h('div', 'fw-prompt-row', {}, [prompt, h('div', 'fw-actions', {}, [generate, stop, skip, loadImageButton(b)])]),
    monitor.bar,
    resumeBanner(b, model),
    notice,
    buildErrorArea(b, model)
  ]);
  const side = h('div', 'fw-side', {}, [
    buildSettings(b, model),
    section('Styles', true, [stylePicker(b)], 'styles'),
    buildModels(b, model),
    buildAdvanced(b, model)
  ]);
  // ipywidgets owns `el.style`: style an inner root instead
  root = h('div', 'fw-panel', { 'data-fw-panel': model.get('key') }, [main, side]);
  el.append(root);

  // Tell the JupyterLab extension (if any) that this panel exists; it answers by cancelling.
  // Deferred one frame: the view is attached to the page only after render returns.
  let unsubscribe: (() => void) | undefined;
  const announce = requestAnimationFrame(() => {
    const detail: PanelReadyDetail = { key: model.get('key') };
    const handled = !el.dispatchEvent(new CustomEvent(PANEL_READY_EVENT, { bubbles: true, cancelable: true, detail }));
    if (root) root.dataset.fwHost = handled ? 'jupyterlab' : 'other';
    if (handled && detail.notebookPath) mirror.setNamespace(detail.notebookPath);
    unsubscribe = detail.onKernelStatus?.(status => monitor?.kernel(status));
    // the handshake: edits this kernel has not seen (made while it was away) go to it now
    const sent = mirror.handshake(mirror.newestSaved(detail.saved));
    if (root) root.dataset.fwHandshake = sent.join(',') || 'in-step';
    mirror.changed('kernel');
  });

  return () => {
    cancelAnimationFrame(announce);
    unsubscribe?.();
    b.flush();
    mirror.dispose();
    monitor?.dispose();
    results.dispose();
    b.dispose();
    root?.remove();
  };
}

export default { render };
