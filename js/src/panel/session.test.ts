/** Two views of one panel model share one session: one heartbeat, one mirror, one handshake. */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { InitializeProps, RenderProps } from '@anywidget/types';
import {
  PANEL_READY_EVENT,
  PANEL_RECONNECT_EVENT,
  PANEL_STATE_EVENT,
  type PanelReadyDetail,
  type PanelStateDetail
} from '../common/events';
import type { SavedRecord } from '../common/record';
import { defaultValues, FakeModel } from '../testing/fake-model';
import { HEARTBEAT_MS } from './connection';
import type { PanelModel } from './model';
import widget from './index';

interface View {
  el: HTMLElement;
  context: object;
  cleanup: () => void;
}

let model: FakeModel;
let initCleanup: () => void;
let views: View[];
let readies: number;
let records: SavedRecord[];

/** Render a view the way anywidget does: its own element and its own proxy of the model. */
function renderView(parent: HTMLElement = document.body): View {
  const el = document.createElement('div');
  parent.append(el);
  const context = {};
  const cleanup = widget.render({ model: model.proxy(context), el } as unknown as RenderProps<PanelModel>) as () => void;
  const view = { el, context, cleanup };
  views.push(view);
  return view;
}

/** Remove a view the way anywidget does: its cleanup, then every listener of its proxy. */
function removeView(view: View): void {
  view.cleanup();
  model.offContext(view.context);
  view.el.remove();
  views = views.filter(v => v !== view);
}

const q = <T extends HTMLElement = HTMLElement>(view: View, hook: string): T => {
  const found = view.el.querySelector<T>(`[data-fw="${hook}"]`);
  if (!found) throw new Error(hook);
  return found;
};
const root = (view: View): HTMLElement => {
  const found = view.el.querySelector<HTMLElement>('[data-fw-panel]');
  if (!found) throw new Error('no root');
  return found;
};

/** The last request sent of a kind. */
const last = (sent: unknown[]): { id: string } | undefined => sent[sent.length - 1] as { id: string } | undefined;

function onReady(ev: Event): void {
  readies += 1;
  const detail = (ev as CustomEvent<PanelReadyDetail>).detail;
  ev.preventDefault();
  detail.notebookPath = 'two.ipynb';
  detail.saved = { schema_version: 1, revision: 9, updated_at: '', state: { prompt: 'typed offline' } };
  detail.onKernelStatus = () => () => {};
}
function onState(ev: Event): void {
  records.push((ev as CustomEvent<PanelStateDetail>).detail.record);
}

beforeEach(() => {
  vi.useFakeTimers();
  localStorage.clear();
  readies = 0;
  records = [];
  views = [];
  model = new FakeModel(defaultValues({ key: 'two', revision: 3 }));
  initCleanup = widget.initialize({ model: model.proxy({ initialize: true }) } as unknown as InitializeProps<PanelModel>);
  document.body.addEventListener(PANEL_READY_EVENT, onReady);
  document.body.addEventListener(PANEL_STATE_EVENT, onState);
});

afterEach(() => {
  for (const view of [...views]) removeView(view);
  initCleanup();
  document.body.removeEventListener(PANEL_READY_EVENT, onReady);
  document.body.removeEventListener(PANEL_STATE_EVENT, onState);
  vi.useRealTimers();
});

describe('two views of one panel', () => {
  it('share one session: one announcement, one handshake, one heartbeat', () => {
    const first = renderView();
    const second = renderView();
    vi.advanceTimersByTime(20); // the announcement runs on the next frame
    expect(root(first).dataset.fwSession).toBeTruthy();
    expect(root(second).dataset.fwSession).toBe(root(first).dataset.fwSession);
    expect(readies).toBe(1);
    expect(model.sentOf('restore')).toEqual([{ type: 'restore', revision: 10, changes: { prompt: 'typed offline' } }]);
    for (const view of [first, second]) {
      expect(root(view).dataset.fwHost).toBe('jupyterlab');
      expect(root(view).dataset.fwHandshake).toBe('prompt');
    }
    vi.advanceTimersByTime(HEARTBEAT_MS * 3);
    expect(model.sentOf('ping').length).toBe(3);
  });

  it('show each other’s edits', () => {
    const first = renderView();
    const second = renderView();
    const prompt = q<HTMLTextAreaElement>(first, 'prompt');
    prompt.value = 'a lighthouse';
    prompt.dispatchEvent(new Event('input'));
    vi.advanceTimersByTime(200);
    expect(q<HTMLTextAreaElement>(second, 'prompt').value).toBe('a lighthouse');
    const weight = q<HTMLInputElement>(second, 'lora-1-weight');
    weight.value = '-0.35';
    weight.dispatchEvent(new Event('change'));
    expect(q<HTMLInputElement>(first, 'lora-1-weight').value).toBe('-0.35');
    expect(model.get('loras')[1]?.weight).toBe(-0.35);
  });

  it('keep one saved record with one revision sequence', () => {
    const first = renderView();
    renderView();
    vi.advanceTimersByTime(20);
    records = [];
    model.kernelSets('prompt', 'from the kernel');
    model.kernelSets('revision', 11);
    vi.advanceTimersByTime(300);
    expect(records.map(r => r.revision)).toEqual([11]); // one mirror: one save per change
    expect(Object.keys(localStorage).filter(k => k.startsWith('fooocus-widgets:two.ipynb'))).toEqual([
      'fooocus-widgets:two.ipynb:two'
    ]);
    model.emit('comm_live_update');
    const prompt = q<HTMLTextAreaElement>(first, 'prompt');
    prompt.value = 'edited while away';
    prompt.dispatchEvent(new Event('input'));
    vi.advanceTimersByTime(500);
    expect(records.map(r => r.revision)).toEqual([11, 12]);
  });

  it('show one connection state, and reconnect once from whichever view is clicked', () => {
    const first = renderView();
    const second = renderView();
    vi.advanceTimersByTime(20);
    const asked: string[] = [];
    const handler = (ev: Event): void => {
      ev.preventDefault();
      asked.push((ev as CustomEvent<{ key: string }>).detail.key);
    };
    document.body.addEventListener(PANEL_RECONNECT_EVENT, handler);
    try {
      model.emit('comm_live_update');
      for (const view of [first, second]) {
        expect(q(view, 'connection').hidden).toBe(false);
        expect(q(view, 'generate').hidden).toBe(true);
      }
      q(second, 'reconnect').click();
      q(first, 'reconnect').click(); // already reconnecting: nothing more
      expect(asked).toEqual(['two']);
      for (const view of [first, second]) expect(q(view, 'connection-text').textContent).toBe('Reconnecting…');
    } finally {
      document.body.removeEventListener(PANEL_RECONNECT_EVENT, handler);
    }
  });

  it('reach the extension from the next view when one is not on the page', () => {
    const detached = document.createElement('div'); // a view in an area the extension cannot see
    const hidden = renderView(detached);
    const shown = renderView();
    vi.advanceTimersByTime(20);
    expect(readies).toBe(1);
    expect(root(hidden).dataset.fwHost).toBe('jupyterlab');
    expect(root(shown).dataset.fwHost).toBe('jupyterlab');
    records = [];
    model.kernelSets('prompt', 'saved through the view on the page');
    vi.advanceTimersByTime(300);
    expect(records.length).toBe(1);
  });

  it('go on working when the first view goes, and end the session with the last', async () => {
    const first = renderView();
    const second = renderView();
    vi.advanceTimersByTime(20);
    removeView(first);
    // the session listens through initialize's proxy: the view's listeners went, its own did not
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    const ping = last(model.sentOf('ping'));
    model.emit('msg:custom', { type: 'pong', id: ping?.id });
    q(second, 'refresh').click();
    const refresh = last(model.sentOf('refresh'));
    model.emit('msg:custom', { type: 'refreshed', id: refresh?.id, models: 2, loras: 1, styles: 40 });
    await vi.waitFor(() => expect(q(second, 'refresh-status').textContent).toBe('Found 2 models, 1 LoRA, 40 styles.'));
    removeView(second);
    expect(model.listenerCount()).toBe(0);
    const pings = model.sentOf('ping').length;
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS * 3);
    expect(model.sentOf('ping').length).toBe(pings); // no heartbeat without a view
  });
});
