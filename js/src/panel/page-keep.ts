/**
 * Where a page keeps a panel's edits made while its kernel is away, on hosts without the
 * JupyterLab extension (Colab, VS Code, the extension disabled), until the cell runs again.
 *
 * Browser storage when it works. Where it does not (disabled, denied, full), the page itself:
 * a record per panel held on the window (shared by every copy of this module: anywidget may load
 * the code again for the re-run's new panel), which lasts as long as the page does. Where each
 * output has a page of its own that the re-run replaces (Colab), nothing in the page outlives the
 * re-run, and the panel has to say so.
 */

import { newer, type SavedRecord } from '../common/record';

/** Where edits made while the kernel is away are kept until the cell runs again:
 *  browser storage, this page only (lost on reload), or nowhere. */
export type EditKeeper = 'storage' | 'page' | 'none';

const PAGE_RECORDS = Symbol.for('fooocus-widgets.page-records');
const PROBE_KEY = 'fooocus-widgets:probe';

type Holder = { [PAGE_RECORDS]?: Map<string, SavedRecord> };

function pageRecords(): Map<string, SavedRecord> {
  const holder = globalThis as Holder;
  holder[PAGE_RECORDS] ??= new Map<string, SavedRecord>();
  return holder[PAGE_RECORDS];
}

const slot = (namespace: string, key: string): string => `${namespace}\u0000${key}`;

/** Keep `record` in the page (browser storage did not take it); an older one is not kept. */
export function keepInPage(namespace: string, key: string, record: SavedRecord): void {
  const records = pageRecords();
  records.set(slot(namespace, key), newer(records.get(slot(namespace, key)), record) ?? record);
}

/** Browser storage took the record: the page's copy is not needed any more. */
export function dropFromPage(namespace: string, key: string): void {
  pageRecords().delete(slot(namespace, key));
}

/** The record the page kept for this panel, if any. */
export function keptInPage(namespace: string, key: string): SavedRecord | undefined {
  return pageRecords().get(slot(namespace, key));
}

/** Forget every record the page kept (tests). */
export function forgetPageRecords(): void {
  pageRecords().clear();
}

/** Whether browser storage takes and gives back a value now (it may be disabled, denied or full). */
export function storageWorks(): boolean {
  try {
    const storage = globalThis.localStorage;
    if (!storage) return false;
    storage.setItem(PROBE_KEY, '1');
    const back = storage.getItem(PROBE_KEY);
    storage.removeItem(PROBE_KEY);
    return back === '1';
  } catch {
    return false;
  }
}

/**
 * Whether this output is a page of its own that re-running the cell replaces: Colab renders each
 * output in its own frame, on a `*.googleusercontent.com` origin with `google.colab` inside, and
 * its storage there is partitioned, so neither the page nor browser storage reaches the re-run's
 * panel.
 */
export function outputIsItsOwnPage(win: typeof globalThis = globalThis): boolean {
  const google = (win as { google?: { colab?: unknown } }).google;
  if (google?.colab !== undefined) return true;
  try {
    return /(^|\.)googleusercontent\.com$/.test(win.location.hostname);
  } catch {
    return false;
  }
}

/** Where edits made now would be kept until the cell runs again. */
export function editKeeper(win: typeof globalThis = globalThis): EditKeeper {
  if (outputIsItsOwnPage(win)) return 'none';
  return storageWorks() ? 'storage' : 'page';
}
