/**
 * Hosts without the JupyterLab extension (Colab, VS Code, the extension disabled): nobody answers
 * the ready event, so the panel says at once to run the cell again (no Reconnect that cannot
 * work), keeps the edits made while the kernel is away where the page can (browser storage, else
 * the page itself) and hands them to the re-run's panel, or says plainly that it cannot.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PANEL_READY_EVENT, type PanelReadyDetail } from '../common/events';
import type { SavedRecord } from '../common/record';
import { hook, type MountedPanel, mountPanel } from '../testing/mount';
import { HEARTBEAT_TIMEOUT_MS, rerunAdvice } from './connection';
import type { PanelModel } from './model';
import {
  dropFromPage,
  editKeeper,
  forgetPageRecords,
  keepInPage,
  keptInPage,
  outputIsItsOwnPage,
  storageWorks
} from './page-keep';

type Mounted = MountedPanel;

let mounted: Mounted[] = [];
let withExtension = false;

/** Render a panel of key 'k' whose kernel has revision 3 (what the kernel's file store gave it). */
function mount(overrides: Partial<PanelModel> = {}): Mounted {
  const m = mountPanel({ key: 'k', revision: 3, ...overrides });
  vi.advanceTimersByTime(20); // the ready announcement runs on the next frame
  mounted.push(m);
  return m;
}

/** The re-run replaces the output: the old panel's view goes (its cleanup), then its element. */
function unmount(m: Mounted): void {
  m.cleanup();
  m.el.remove();
  mounted = mounted.filter(x => x !== m);
}

const q = <T extends HTMLElement = HTMLElement>(m: Mounted, name: string): T => hook<T>(m.el, name);

function typeNegative(m: Mounted, text: string): void {
  const negative = q<HTMLTextAreaElement>(m, 'negative-prompt');
  negative.value = text;
  negative.dispatchEvent(new Event('input'));
  vi.advanceTimersByTime(600); // past the input's and the mirror's debounces
}

/** Browser storage that refuses everything, as a page denied storage does. */
function denyStorage(): void {
  const refuse = (): never => {
    throw new DOMException('The operation is insecure.', 'SecurityError');
  };
  vi.stubGlobal('localStorage', { getItem: refuse, setItem: refuse, removeItem: refuse, clear: refuse, key: refuse, length: 0 });
}

function onReady(ev: Event): void {
  if (!withExtension) return;
  const detail = (ev as CustomEvent<PanelReadyDetail>).detail;
  ev.preventDefault();
  detail.notebookPath = 'nb.ipynb';
  detail.onKernelStatus = () => () => {};
}

beforeEach(() => {
  vi.useFakeTimers();
  localStorage.clear();
  forgetPageRecords();
  withExtension = false;
  document.body.addEventListener(PANEL_READY_EVENT, onReady);
});

afterEach(() => {
  for (const m of [...mounted]) unmount(m);
  document.body.removeEventListener(PANEL_READY_EVENT, onReady);
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('the bar without the extension', () => {
  it('says at once to run the cell again, with no Reconnect button or switch', () => {
    const m = mount();
    expect(m.el.querySelector('[data-fw-panel]')?.getAttribute('data-fw-host')).toBe('other');
    m.model.emit('comm_live_update');
    const bar = q(m, 'connection');
    expect(bar.hidden).toBe(false);
    expect(bar.dataset.recovery).toBe('rerun');
    expect(bar.dataset.keeps).toBe('storage');
    expect(q(m, 'connection-text').textContent).toBe(
      'The kernel restarted or stopped. Run this cell again: your settings and the edits you make until then come back with it (kept in this browser).'
    );
    expect(q(m, 'reconnect').hidden).toBe(true);
    expect(q(m, 'auto-reconnect').closest('label')?.style.display).toBe('none');
    expect(q(m, 'generate').hidden).toBe(true);
  });

  it('keeps the Reconnect button and "Your settings are saved" with the extension', () => {
    withExtension = true;
    const m = mount();
    m.model.emit('comm_live_update');
    expect(q(m, 'connection').dataset.recovery).toBe('reconnect');
    expect(q(m, 'reconnect').hidden).toBe(false);
    expect(q(m, 'auto-reconnect').closest('label')?.style.display).toBe('');
    expect(q(m, 'connection-text').textContent).toContain('Your settings are saved.');
    expect(q(m, 'connection-text').textContent).not.toContain('Run this cell again');
  });

  it('asks to run the cell again only if a silent kernel stopped (it may be running a long cell)', async () => {
    const m = mount();
    await vi.advanceTimersByTimeAsync(HEARTBEAT_TIMEOUT_MS + 2500);
    const text = q(m, 'connection-text').textContent ?? '';
    expect(text).toContain('No answer from the kernel');
    expect(text).toContain('If it stopped: run this cell again');
    expect(q(m, 'reconnect').hidden).toBe(true);
  });

  it('says plainly that edits are not kept where the re-run replaces the page (Colab)', () => {
    vi.stubGlobal('google', { colab: { output: {} } });
    const m = mount();
    m.model.emit('comm_live_update');
    const text = q(m, 'connection-text').textContent ?? '';
    expect(q(m, 'connection').dataset.keeps).toBe('none');
    expect(text).toContain('Run this cell again. Edits you make before then are not saved');
    expect(text).not.toContain('settings are saved');
    expect(text).not.toContain('come back with it');
  });
});

describe('edits made while the kernel is away reach the re-run cell', () => {
  it('from browser storage: the new panel hands them to its kernel, though nobody answered', () => {
    const old = mount();
    old.model.emit('comm_live_update');
    typeNegative(old, 'no text, no frames');
    unmount(old);
    expect(keptInPage('/', 'k')).toBeUndefined(); // storage took it: the page keeps no copy

    const rerun = mount(); // the kernel's panel, from its file store: revision 3, the old negative
    const restores = rerun.model.sentOf('restore') as { revision: number; changes: Record<string, unknown> }[];
    expect(restores).toHaveLength(1);
    expect(restores[0]?.changes).toEqual({ negative_prompt: 'no text, no frames' });
    expect(restores[0]?.revision).toBeGreaterThan(3);
    expect(rerun.el.querySelector('[data-fw-panel]')?.getAttribute('data-fw-handshake')).toBe('negative_prompt');
  });

  it('from the page where browser storage throws, and the bar says they live in this page only', () => {
    denyStorage();
    expect(storageWorks()).toBe(false);
    const old = mount();
    old.model.emit('comm_live_update');
    expect(q(old, 'connection').dataset.keeps).toBe('page');
    expect(q(old, 'connection-text').textContent).toContain('those edits live in this page only: reloading it loses them');
    expect(q(old, 'connection-text').textContent).not.toContain('Your settings are saved');
    typeNegative(old, 'kept by the page');
    unmount(old);
    expect(keptInPage('/', 'k')?.state.negative_prompt).toBe('kept by the page');

    const rerun = mount();
    expect(rerun.model.sentOf('restore')).toEqual([
      expect.objectContaining({ type: 'restore', changes: { negative_prompt: 'kept by the page' } })
    ]);
  });

  it('sends nothing when nothing was edited while the kernel was away', () => {
    denyStorage();
    const old = mount();
    old.model.emit('comm_live_update');
    unmount(old);
    const rerun = mount();
    expect(rerun.model.sentOf('restore')).toEqual([]);
    expect(rerun.el.querySelector('[data-fw-panel]')?.getAttribute('data-fw-handshake')).toBe('in-step');
  });
});

describe('page-keep', () => {
  const record = (revision: number, prompt: string): SavedRecord => ({
    schema_version: 1,
    revision,
    updated_at: `2026-01-01T00:00:0${revision}Z`,
    state: { prompt }
  });

  it('keeps the newer record per notebook and key, and drops it when storage took one', () => {
    keepInPage('a.ipynb', 'k', record(5, 'five'));
    keepInPage('a.ipynb', 'k', record(4, 'older'));
    keepInPage('b.ipynb', 'k', record(1, 'other notebook'));
    expect(keptInPage('a.ipynb', 'k')?.state.prompt).toBe('five');
    expect(keptInPage('b.ipynb', 'k')?.state.prompt).toBe('other notebook');
    dropFromPage('a.ipynb', 'k');
    expect(keptInPage('a.ipynb', 'k')).toBeUndefined();
    expect(keptInPage('b.ipynb', 'k')).toBeDefined();
  });

  it('is shared by every copy of the code on the page (held on the window)', () => {
    keepInPage('a.ipynb', 'k', record(2, 'two'));
    const held = (globalThis as Record<symbol, unknown>)[Symbol.for('fooocus-widgets.page-records')];
    expect(held).toBeInstanceOf(Map);
    expect((held as Map<string, SavedRecord>).size).toBe(1);
  });

  it('tells Colab output frames and denied storage apart from an ordinary page', () => {
    expect(outputIsItsOwnPage()).toBe(false);
    expect(editKeeper()).toBe('storage');
    const colabFrame = { location: { hostname: 'abc123-colab.googleusercontent.com' } } as unknown as typeof globalThis;
    expect(outputIsItsOwnPage(colabFrame)).toBe(true);
    expect(editKeeper(colabFrame)).toBe('none');
    denyStorage();
    expect(editKeeper()).toBe('page');
  });

  it('words each keeper differently, and never claims a save that does not happen', () => {
    expect(rerunAdvice('storage')).toContain('kept in this browser');
    expect(rerunAdvice('page')).toContain('reloading it loses them');
    expect(rerunAdvice('none')).toContain('are not saved');
    expect(rerunAdvice('none')).not.toContain('come back with it');
  });
});
