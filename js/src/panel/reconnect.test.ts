/** The saved copies, the handshake, the connection monitor and Reconnect, with a fake extension. */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RenderProps } from '@anywidget/types';
import {
  PANEL_READY_EVENT,
  PANEL_RECONNECT_EVENT,
  PANEL_STATE_EVENT,
  type KernelStatus,
  type PanelReadyDetail
} from '../common/events';
import type { SavedRecord } from '../common/record';
import { defaultValues, FakeModel } from '../testing/fake-model';
import { HEARTBEAT_TIMEOUT_MS } from './connection';
import type { PanelModel } from './model';
import widget from './index';

let host: HTMLElement;
let model: FakeModel;
let cleanup: () => void = () => {};
let records: SavedRecord[];
let saved: SavedRecord | undefined;
let statusCallback: ((s: KernelStatus) => void) | undefined;
let elsewhereCallback: ((elsewhere: boolean) => void) | undefined;
let withExtension = true;

function mount(overrides: Partial<PanelModel> = {}): void {
  model = new FakeModel(defaultValues({ key: 'k', revision: 3, ...overrides }));
  host = document.createElement('div');
  document.body.append(host);
  cleanup = widget.render({ model, el: host } as unknown as RenderProps<PanelModel>) as () => void;
  vi.advanceTimersByTime(20); // the ready announcement runs on the next frame
}

const q = (hook: string): HTMLElement => {
  const found = host.querySelector<HTMLElement>(`[data-fw="${hook}"]`);
  if (!found) throw new Error(hook);
  return found;
};

beforeEach(() => {
  vi.useFakeTimers();
  localStorage.clear();
  records = [];
  saved = undefined;
  statusCallback = undefined;
  withExtension = true;
  document.body.addEventListener(PANEL_READY_EVENT, onReady);
  document.body.addEventListener(PANEL_STATE_EVENT, onState);
});

afterEach(() => {
  cleanup();
  cleanup = () => {};
  host.remove();
  document.body.removeEventListener(PANEL_READY_EVENT, onReady);
  document.body.removeEventListener(PANEL_STATE_EVENT, onState);
  vi.useRealTimers();
});

function onReady(ev: Event): void {
  if (!withExtension) return;
  const detail = (ev as CustomEvent<PanelReadyDetail>).detail;
  ev.preventDefault();
  detail.notebookPath = 'nb.ipynb';
  detail.saved = saved;
  detail.onKernelStatus = cb => {
    statusCallback = cb;
    return () => {};
  };
  detail.onReconnectElsewhere = cb => {
    elsewhereCallback = cb;
    return () => {
      elsewhereCallback = undefined;
    };
  };
}

function onState(ev: Event): void {
  records.push((ev as CustomEvent<{ record: SavedRecord }>).detail.record);
}

describe('state mirror', () => {
  it('writes each change to the notebook and browser storage, with the kernel’s revision', () => {
    mount();
    model.kernelSets('prompt', 'a fox');
    model.kernelSets('revision', 4);
    vi.advanceTimersByTime(300);
    const last = records[records.length - 1];
    expect(last?.state.prompt).toBe('a fox');
    expect(last?.revision).toBe(4);
    expect(JSON.parse(localStorage.getItem('fooocus-widgets:nb.ipynb:k') ?? '{}').state.prompt).toBe('a fox');
  });

  it('sends the kernel only the fields of a newer saved copy (the handshake)', () => {
    saved = { schema_version: 1, revision: 9, updated_at: '', state: { ...defaultValues(), prompt: 'typed offline', image_number: 5 } };
    mount();
    expect(model.sent).toContainEqual({ type: 'restore', revision: 10, changes: { prompt: 'typed offline', image_number: 5 } });
    expect(host.querySelector('[data-fw-panel]')?.getAttribute('data-fw-handshake')).toBe('prompt,image_number');
  });

  it('sends nothing when the kernel is as new as the copies', () => {
    saved = { schema_version: 1, revision: 2, updated_at: '', state: { prompt: 'older' } };
    mount();
    expect(model.sentOf('restore')).toEqual([]);
  });
});

describe('connection', () => {
  it('waits while another window brings the panel back, and offers Reconnect again if it gives up', () => {
    mount();
    elsewhereCallback?.(true); // a live panel: nothing to wait for
    expect(q('connection').hidden).toBe(true);
    model.emit('comm_live_update');
    statusCallback?.('idle');
    elsewhereCallback?.(true);
    expect(q('connection-text').textContent).toBe('Reconnecting from another window…');
    expect((q('reconnect') as HTMLButtonElement).disabled).toBe(true);
    elsewhereCallback?.(false);
    expect(q('connection-text').textContent).toContain('The kernel is back');
    expect((q('reconnect') as HTMLButtonElement).disabled).toBe(false);
    cleanup();
    cleanup = () => {};
    expect(elsewhereCallback).toBeUndefined(); // unsubscribed with the panel
  });

  it('swaps Generate for Reconnect when the comm goes, and keeps saving edits with newer revisions', () => {
    mount();
    model.emit('comm_live_update');
    expect(q('connection').hidden).toBe(false);
    expect(q('generate').hidden).toBe(true);
    const prompt = q('prompt') as HTMLTextAreaElement;
    prompt.value = 'edited while away';
    prompt.dispatchEvent(new Event('input'));
    vi.advanceTimersByTime(500);
    const last = records[records.length - 1];
    expect(last?.state.prompt).toBe('edited while away');
    expect(last?.revision).toBeGreaterThan(3);
  });

  it('asks the extension to reconnect, or says at once to run the cell again without it', () => {
    withExtension = false;
    mount();
    model.emit('comm_live_update');
    expect(q('connection-text').textContent).toContain('Run this cell again');
    expect(q('reconnect').hidden).toBe(true); // it could not work here

    cleanup();
    host.remove();
    withExtension = true;
    const asked: unknown[] = [];
    const handler = (ev: Event): void => {
      ev.preventDefault();
      asked.push((ev as CustomEvent).detail.record.state.prompt);
    };
    document.body.addEventListener(PANEL_RECONNECT_EVENT, handler);
    mount({ prompt: 'keep me' });
    model.emit('comm_live_update');
    q('reconnect').click();
    expect(asked).toEqual(['keep me']);
    expect(q('connection-text').textContent).toBe('Reconnecting…');
    document.body.removeEventListener(PANEL_RECONNECT_EVENT, handler);
  });

  it('follows the kernel status and reconnects by itself when asked to', () => {
    localStorage.setItem('fooocus-widgets:auto-reconnect', 'true');
    const asked: string[] = [];
    const handler = (ev: Event): void => {
      ev.preventDefault();
      asked.push('reconnect');
    };
    document.body.addEventListener(PANEL_RECONNECT_EVENT, handler);
    mount();
    statusCallback?.('autorestarting');
    expect(q('connection-text').textContent).toContain('restarting');
    statusCallback?.('idle');
    expect(asked).toEqual(['reconnect']);
    document.body.removeEventListener(PANEL_RECONNECT_EVENT, handler);
  });

  it('notices a silent kernel through the heartbeat, and comes back when it answers', async () => {
    mount();
    await vi.advanceTimersByTimeAsync(HEARTBEAT_TIMEOUT_MS + 2500);
    const pings = model.sentOf('ping') as { id: string }[];
    expect(pings.length).toBeGreaterThan(0);
    expect(q('connection').hidden).toBe(false);
    expect(q('connection-text').textContent).toContain('No answer from the kernel');
    // a late answer to any ping (its request already timed out) brings the panel back
    model.emit('msg:custom', { type: 'pong', id: pings[0]?.id });
    expect(q('connection').hidden).toBe(true);
  });

  it('keeps the panel live while pings are answered, and while the kernel is busy', async () => {
    mount();
    for (let beat = 0; beat < 8; beat++) {
      await vi.advanceTimersByTimeAsync(2000);
      const pings = model.sentOf('ping') as { id: string }[];
      const last = pings[pings.length - 1];
      model.emit('msg:custom', { type: 'pong', id: last?.id });
    }
    expect(q('connection').hidden).toBe(true);
    statusCallback?.('busy');
    await vi.advanceTimersByTimeAsync(HEARTBEAT_TIMEOUT_MS * 3);
    expect(q('connection').hidden).toBe(true);
  });

  it('offers to resume an interrupted batch', () => {
    mount({ pending: { seeds: ['5', '6', '7'], done: 1, images: 3 } });
    expect(q('resume-banner').hidden).toBe(false);
    expect(q('resume-banner').textContent).toContain('after 1 of 3 images');
    q('resume').click();
    expect(model.sent).toContainEqual({ type: 'resume' });
  });
});
