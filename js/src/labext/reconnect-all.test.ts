/** "One click for all": a Reconnect from one panel brings back every dead panel of the notebook,
 *  one after another, each from its newest copy; one failing does not stop the others. */

import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { PANEL_RECONNECT_EVENT, type PanelReconnectDetail } from '../common/events';
import { METADATA_KEY, type SavedRecord } from '../common/record';
import { NotebookBridge } from './bridge';
import { ReconnectClaims } from './claim';
import { ReconnectRun } from './reconnect-all';
import { findDeadPanels } from './reconnect';
import { answeringKernel } from '../testing/answering-kernel';

const execute = vi.hoisted(() => vi.fn());
vi.mock('@jupyterlab/outputarea', () => ({ OutputArea: { execute } }));

const record = (revision: number, prompt: string): SavedRecord => ({
  schema_version: 1,
  revision,
  updated_at: 't',
  state: { prompt }
});

/** A never-firing signal. */
const signal = { connect: () => true, disconnect: () => true };

/** A cell whose output shows the panel `key`, dead (`disconnected`) or live. */
function fakeCell(key: string | null, disconnected: boolean) {
  const node = document.createElement('div');
  const view = document.createElement('div');
  if (disconnected) view.className = 'jupyter-widgets-disconnected';
  const root = document.createElement('div');
  if (key !== null) root.setAttribute('data-fw-panel', key);
  view.append(root);
  node.append(view);
  return {
    node,
    root,
    isDisposed: false,
    model: { type: 'code', sharedModel: { getSource: () => `panel = fw.FooocusPanel(key=${JSON.stringify(key)})` } },
    outputArea: { model: { clear: vi.fn(), add: vi.fn() } }
  };
}

function fakeNotebook(cells: ReturnType<typeof fakeCell>[]) {
  const node = document.createElement('div');
  for (const cell of cells) node.append(cell.node);
  const metadata = new Map<string, unknown>();
  const notebook = {
    node,
    disposed: signal,
    sessionContext: {
      statusChanged: signal,
      kernelChanged: signal,
      isDisposed: false,
      hasNoKernel: false,
      ready: Promise.resolve(),
      session: { kernel: answeringKernel({ status: 'idle' }) }
    },
    context: { path: 'two.ipynb' },
    model: {
      getMetadata: (key: string): unknown => metadata.get(key),
      setMetadata: (key: string, value: unknown): void => void metadata.set(key, value)
    },
    content: { widgets: cells }
  };
  return { panel: notebook as unknown as NotebookPanel, metadata };
}

function click(root: Element, detail: PanelReconnectDetail): boolean {
  return !root.dispatchEvent(new CustomEvent(PANEL_RECONNECT_EVENT, { bubbles: true, cancelable: true, detail }));
}

/** The key and prompt each rehydrate call carried, in order. */
function calls(): string[] {
  return execute.mock.calls.map(([code]) => {
    const text = String(code);
    const key = /rehydrate\("([^"]*)"/.exec(text)?.[1] ?? '?';
    const prompt = /\\"prompt\\": ?\\"([^\\]*)\\"/.exec(text)?.[1] ?? '?';
    return `${key}:${prompt}`;
  });
}

afterEach(() => {
  vi.restoreAllMocks();
  execute.mockReset();
});

describe('findDeadPanels', () => {
  it('finds panels in disconnected outputs or with a Reconnect bar showing, each key once', () => {
    const a = fakeCell('a', true);
    const b = fakeCell('b', false);
    const c = fakeCell('c', false);
    const bar = document.createElement('div');
    bar.setAttribute('data-fw', 'connection');
    bar.dataset.state = 'lost';
    c.root.append(bar);
    const again = fakeCell('a', true);
    const { panel } = fakeNotebook([a, b, c, again]);
    expect(findDeadPanels(panel).map(d => d.key)).toEqual(['a', 'c']);
    bar.dataset.state = 'live';
    expect(findDeadPanels(panel).map(d => d.key)).toEqual(['a']);
  });
});

describe('Reconnect all', () => {
  it('brings back every dead panel from one click: the clicked one first, from the page', async () => {
    vi.spyOn(console, 'info').mockImplementation(() => undefined);
    execute.mockResolvedValue({ content: { status: 'ok' } });
    const [a, b, live, c] = [fakeCell('a', true), fakeCell('b', true), fakeCell('live', false), fakeCell('c', true)];
    const { panel, metadata } = fakeNotebook([a, b, live, c]);
    metadata.set(METADATA_KEY, { panels: { a: record(1, 'old a'), b: record(5, 'saved b'), c: record(2, 'saved c') } });
    new NotebookBridge(panel);

    expect(click(b.root, { key: 'b', record: record(6, 'page b') })).toBe(true);
    await vi.waitFor(() => expect(execute).toHaveBeenCalledTimes(3));
    expect(calls()).toEqual(['b:page b', 'a:old a', 'c:saved c']);
    for (const cell of [a, b, c]) expect(cell.outputArea.model.clear).toHaveBeenCalledTimes(1);
    expect(live.outputArea.model.clear).not.toHaveBeenCalled();
  });

  it('takes a panel that asks during the run into it, with its page copy, once', async () => {
    vi.spyOn(console, 'info').mockImplementation(() => undefined);
    let release = (): void => undefined;
    execute.mockImplementationOnce(() => new Promise(resolve => (release = () => resolve({ content: { status: 'ok' } }))));
    execute.mockResolvedValue({ content: { status: 'ok' } });
    const [a, b] = [fakeCell('a', true), fakeCell('b', true)];
    const { panel, metadata } = fakeNotebook([a, b]);
    metadata.set(METADATA_KEY, { panels: { b: record(1, 'saved b') } });
    new NotebookBridge(panel);

    click(a.root, { key: 'a', record: record(1, 'page a') });
    await vi.waitFor(() => expect(execute).toHaveBeenCalledTimes(1));
    expect(click(b.root, { key: 'b', record: record(2, 'page b') })).toBe(true); // automatic, say
    release();
    await vi.waitFor(() => expect(execute).toHaveBeenCalledTimes(2));
    await new Promise(resolve => setTimeout(resolve, 10));
    expect(calls()).toEqual(['a:page a', 'b:page b']);
  });

  it('says in its own cell why a panel failed, and still brings back the others', async () => {
    vi.spyOn(console, 'info').mockImplementation(() => undefined);
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    execute.mockImplementation((code: string) =>
      Promise.resolve({ content: { status: code.includes('rehydrate("b"') ? 'error' : 'ok' } })
    );
    const [a, b, c, none] = [fakeCell('a', true), fakeCell('b', true), fakeCell('c', true), fakeCell('none', true)];
    const { panel, metadata } = fakeNotebook([a, b, c, none]);
    metadata.set(METADATA_KEY, { panels: { b: record(1, 'saved b'), c: record(1, 'saved c') } });
    new NotebookBridge(panel);
    const done = vi.fn();

    click(a.root, { key: 'a', record: record(1, 'page a'), done });
    await vi.waitFor(() => expect(none.outputArea.model.add).toHaveBeenCalled());
    expect(calls()).toEqual(['a:page a', 'b:saved b', 'c:saved c']);
    expect(done).not.toHaveBeenCalled();
    const note = (cell: ReturnType<typeof fakeCell>): string => String(cell.outputArea.model.add.mock.calls[0]?.[0]?.text);
    expect(note(b)).toMatch(/could not rebuild the panel \(error\)\. Run this cell again/);
    expect(note(none)).toMatch(/no saved copy of this panel/);
    expect(none.outputArea.model.clear).not.toHaveBeenCalled();
    expect(a.outputArea.model.add).not.toHaveBeenCalled();
    expect(c.outputArea.model.add).not.toHaveBeenCalled();
  });
});

describe('Reconnect with other windows on the notebook', () => {
  it('rebuilds only once no other window is re-linking to the kernel', async () => {
    vi.spyOn(console, 'info').mockImplementation(() => undefined);
    execute.mockResolvedValue({ content: { status: 'ok' } });
    const a = fakeCell('a', true);
    const { panel } = fakeNotebook([a]);
    let linked = (_ok: boolean): void => undefined;
    const othersLinked = vi.fn(() => new Promise<boolean>(resolve => (linked = resolve)));
    const run = new ReconnectRun(
      panel,
      { key: 'a', cell: a as never, record: record(1, 'page a') },
      new AbortController().signal,
      new ReconnectClaims(null),
      async () => true,
      othersLinked
    );
    const finished = run.start();
    await vi.waitFor(() => expect(othersLinked).toHaveBeenCalledTimes(1));
    await new Promise(resolve => setTimeout(resolve, 20));
    expect(execute).not.toHaveBeenCalled(); // the other window would miss the new panel
    linked(true);
    await finished;
    expect(calls()).toEqual(['a:page a']);
  });
});
