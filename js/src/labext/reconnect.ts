/**
 * Reconnect: makes sure the notebook has a running kernel, then rebuilds the panel in its own
 * cell's output with everything the user had (the record and the cell's source passed as data to
 * `rehydrate`, which binds the cell's names again), and records how long it took as User Timing
 * entries (see ./timing).
 */

import type { CodeCell } from '@jupyterlab/cells';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { OutputArea } from '@jupyterlab/outputarea';
import type { PanelReconnectDetail } from '../common/events';
import { rehydrateCode } from '../common/record';
import { ensureKernel, NotebookClosedError } from './kernel';
import { ReconnectTimer } from './timing';

/** The code cell of `panel` whose output holds `target` (the element that sent the event). */
export function findCodeCell(panel: Pick<NotebookPanel, 'content'>, target: EventTarget | null): CodeCell | null {
  if (!(target instanceof Node)) return null;
  for (const cell of panel.content.widgets) {
    if (cell.model.type === 'code' && cell.node.contains(target)) return cell as CodeCell;
  }
  return null;
}

/** Bring the panel back in `cell`; throws when it could not. `signal` aborts when the notebook closes. */
export async function reconnectPanel(
  panel: NotebookPanel,
  cell: CodeCell,
  detail: PanelReconnectDetail,
  signal: AbortSignal
): Promise<void> {
  const timer = new ReconnectTimer(detail.key);
  await ensureKernel(panel.sessionContext, signal);
  timer.kernelReady();
  if (signal.aborted) throw new NotebookClosedError();
  cell.outputArea.model.clear();
  // the kernel reads the cell's source (as data) to bind the names the cell bound: `panel`, `fw`
  const code = rehydrateCode(detail.key, detail.record, cell.model.sharedModel.getSource());
  const reply = await OutputArea.execute(code, cell.outputArea, panel.sessionContext);
  const status = reply?.content.status ?? 'unknown';
  const { entry, detail: timing } = timer.finish(status);
  console.info(
    `[fooocus-widgets] reconnected ${detail.key}: ${status} in ${entry.duration.toFixed(0)} ms ` +
      `(${timing.waitedForKernelMs.toFixed(0)} ms waiting for the kernel)`
  );
  if (status !== 'ok') throw new Error(`the kernel could not rebuild the panel (${status})`);
}
