/**
 * Which `PanelSession` belongs to which panel model: one per model, made for its first view and
 * shared by the others.
 *
 * anywidget hands `initialize` and each view a proxy of the model of their own (listeners added
 * through a view's proxy are removed when that view goes), so a proxy is no identity. The
 * `schema` trait is one: the kernel sends it once when the panel is made, every proxy of a model
 * returns that same object, and the page never replaces it. And because listeners must outlive
 * any one view, the session listens through the proxy `initialize` got, which anywidget keeps
 * until the model goes.
 */

import type { AnyModel } from '@anywidget/types';
import type { PanelModel } from './model';
import { readSchema } from './schema';
import { PanelSession } from './session';

type Model = AnyModel<PanelModel>;

interface ModelEntry {
  /** The proxy the session listens through (initialize's, else the first view's). */
  model: Model;
  session: PanelSession | null;
}

const entries = new WeakMap<object, ModelEntry>();

/** The object that stands for the model behind any of its proxies. */
function identity(model: Model): object {
  return readSchema(model.get('schema'));
}

/** From anywidget's `initialize`: the proxy sessions of this model listen through. Returns the
 *  cleanup that ends the model's session (the model was destroyed, or the code replaced). */
export function registerModel(model: Model): () => void {
  const key = identity(model);
  const entry = entries.get(key);
  if (entry) entry.model = model;
  else entries.set(key, { model, session: null });
  return () => {
    entries.get(key)?.session?.dispose();
    entries.delete(key);
  };
}

/** The model's session, made now when it has none (its first view). */
export function sessionFor(model: Model): PanelSession {
  const key = identity(model);
  const entry = entries.get(key) ?? { model, session: null };
  entries.set(key, entry);
  if (!entry.session) {
    const session = new PanelSession(entry.model, () => {
      if (entry.session === session) entry.session = null;
    });
    entry.session = session;
  }
  return entry.session;
}
