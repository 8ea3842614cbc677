/**
 * The FooocusPanel front end (anywidget ESM). `initialize` runs once per panel model and names
 * the model proxy its session listens through; `render` runs once per view: it builds the
 * panel's DOM (./layout) bound to the model, wires the buttons to messages (./actions) and joins
 * the model's one session (./session: heartbeat, saved copies, handshake) for its connection.
 */

import type { InitializeProps, RenderProps } from '@anywidget/types';
import { PanelActions } from './actions';
import { Binder } from './bind';
import { connectionBar } from './connection-bar';
import { ImageFetcher } from './image-fetcher';
import { buildLayout, type PanelLayout } from './layout';
import type { PanelModel } from './model';
import { readSchema } from './schema';
import { registerModel, sessionFor } from './sessions';
import { wireView } from './view-wiring';
import './panel.css';

function initialize({ model }: InitializeProps<PanelModel>): () => void {
  return registerModel(model);
}

function render({ model, el }: RenderProps<PanelModel>): () => void {
  const schema = readSchema(model.get('schema'));
  const session = sessionFor(model);
  const b = new Binder(model);
  const fetcher = new ImageFetcher(session.channel);
  let layout: PanelLayout;
  try {
    const actions = new PanelActions(session.channel, () => session.flushEdits(), message => b.commit('error', message));
    const bar = connectionBar(b, session.monitor, () => session.reconnect());
    layout = buildLayout({ b, schema, actions, fetcher, connectionBar: bar });
    wireView(b, session, layout.root, layout.buttons);
  } catch (err) {
    // a schema this page does not understand: leave nothing running behind the error
    b.dispose();
    fetcher.dispose();
    if (!session.viewCount) session.dispose();
    throw err;
  }
  el.append(layout.root);
  const detach = session.attach({ element: el, flush: () => b.flush() });

  return () => {
    detach(); // sends this view's pending text; the last view ends the session
    layout.dispose();
    fetcher.dispose();
    b.dispose();
    layout.root.remove();
  };
}

export default { initialize, render };
