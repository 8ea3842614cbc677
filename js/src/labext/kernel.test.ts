/** The one mapping from JupyterLab's kernel statuses to the panel's. */

import { describe, expect, it } from 'vitest';
import type { Kernel } from '@jupyterlab/services';
import type { KernelStatus } from '../common/events';
import { panelKernelStatus } from './kernel';

describe('panelKernelStatus', () => {
  it("maps every one of JupyterLab's kernel statuses to one the panel knows", () => {
    const expected: Record<Kernel.Status, KernelStatus> = {
      unknown: 'unknown',
      starting: 'starting',
      idle: 'idle',
      busy: 'busy',
      terminating: 'dead',
      restarting: 'restarting',
      autorestarting: 'autorestarting',
      dead: 'dead'
    };
    for (const [lab, panel] of Object.entries(expected)) {
      expect(panelKernelStatus(lab as Kernel.Status)).toBe(panel);
    }
  });
});
