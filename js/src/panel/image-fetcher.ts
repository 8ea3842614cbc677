/**
 * Full-size images from the kernel by content hash (an `image` request answered by
 * `image-bytes` with the bytes as one buffer), kept as object URLs for as long as the view lives.
 * A request that gets no answer fails after a while instead of waiting forever.
 */

import { RequestError, type KernelChannel } from '../common/request';

/** How long to wait for an image's bytes (a large PNG read from disk). */
export const IMAGE_TIMEOUT_MS = 30_000;

export class ImageFetcher {
  private readonly urls = new Map<string, string>();
  private readonly closing = new AbortController();

  constructor(private readonly channel: KernelChannel) {}

  /** An object URL of the image with `hash`; rejects with a sentence a user can read. */
  async fetch(hash: string): Promise<string> {
    const cached = this.urls.get(hash);
    if (cached) return cached;
    const { reply, buffers } = await this.channel
      .request({ type: 'image', hash }, { timeoutMs: IMAGE_TIMEOUT_MS, signal: this.closing.signal })
      .catch((err: unknown) => {
        throw new Error(err instanceof RequestError ? err.message : 'The image could not be fetched.');
      });
    const data = buffers[0];
    if (!reply.found || !data) throw new Error('This image is no longer stored in the kernel.');
    const bytes = new Uint8Array(data.byteLength);
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)); // a copy owned by this page
    const url = URL.createObjectURL(new Blob([bytes], { type: reply.mime || 'image/png' }));
    const raced = this.urls.get(hash); // two clicks on one image: keep one URL
    if (raced) {
      URL.revokeObjectURL(url);
      return raced;
    }
    if (this.closing.signal.aborted) {
      URL.revokeObjectURL(url);
      throw new Error('The panel was closed.');
    }
    this.urls.set(hash, url);
    return url;
  }

  /** Drop requests in flight and free every object URL. */
  dispose(): void {
    this.closing.abort();
    for (const url of this.urls.values()) URL.revokeObjectURL(url);
    this.urls.clear();
  }
}
