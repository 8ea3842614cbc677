/**
 * For tests: the kernel-connection fields ../labext/reply-watch reads, on a kernel that answers
 * this page's kernel_info requests at once (a healthy connection).
 */

import type { ProbeMessage } from '../labext/reply-watch';

type Slot = (sender: unknown, args: { msg: ProbeMessage; direction: 'send' | 'recv' }) => void;

export function answeringKernel<T extends object>(fields: T) {
  const slots = new Set<Slot>();
  return Object.assign(fields, {
    clientId: 'this-page',
    isDisposed: false,
    anyMessage: { connect: (s: Slot) => (slots.add(s), true), disconnect: (s: Slot) => slots.delete(s) },
    requestKernelInfo: async (): Promise<void> => {
      const msg = { channel: 'shell', header: { msg_type: 'kernel_info_reply' }, parent_header: { session: 'this-page' } };
      for (const s of [...slots]) s(null, { msg, direction: 'recv' });
    },
    reconnect: async (): Promise<void> => undefined
  });
}
