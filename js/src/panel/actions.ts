/**
 * What the panel's buttons do, as messages to the kernel: each sends its typed message (after any
 * typed text still waiting for its debounce, so the kernel sees the prompt as typed), or, for
 * Refresh, asks and waits for the answer. No DOM here: the sections bind buttons to these.
 */

import type { KernelChannel } from '../common/request';

/** How long Refresh waits for the kernel to look through the folders. */
export const REFRESH_TIMEOUT_MS = 30_000;

/** "1 model", "2 models". */
function counted(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export class PanelActions {
  constructor(
    private readonly channel: KernelChannel,
    /** Sends the typed text of every view of the panel that waits for its debounce. */
    private readonly flushEdits: () => void,
    /** Shows a problem in the panel's error area. */
    private readonly showError: (message: string) => void
  ) {}

  generate(): void {
    this.flushEdits();
    this.channel.send({ type: 'generate' });
  }

  stop(): void {
    this.flushEdits();
    this.channel.send({ type: 'stop' });
  }

  skip(): void {
    this.flushEdits();
    this.channel.send({ type: 'skip' });
  }

  /** Make the rest of an interrupted batch. */
  resume(): void {
    this.flushEdits();
    this.channel.send({ type: 'resume' });
  }

  /** Forget an interrupted batch. */
  discardPending(): void {
    this.channel.send({ type: 'discard-pending' });
  }

  freeMemory(): void {
    this.channel.send({ type: 'free-memory' });
  }

  measureMemory(): void {
    this.channel.send({ type: 'memory' });
  }

  /** Look for models, LoRAs and styles again; resolves with what was found, as a sentence. */
  async refresh(signal?: AbortSignal): Promise<string> {
    const { reply } = await this.channel.request({ type: 'refresh' }, { timeoutMs: REFRESH_TIMEOUT_MS, signal });
    return `Found ${counted(reply.models, 'model', 'models')}, ${counted(reply.loras, 'LoRA', 'LoRAs')}, ${counted(
      reply.styles,
      'style',
      'styles'
    )}.`;
  }

  /** Send an image file to the kernel, which restores the settings embedded in it. */
  loadImage(file: File): void {
    file.arrayBuffer().then(
      data => {
        this.channel.send({ type: 'load-image', name: file.name }, [data]);
      },
      () => this.showError(`${file.name} could not be read.`)
    );
  }
}
