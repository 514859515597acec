'use strict';

/**
 * `tad-store/react`: the seed's `useStore(key, defaultValue)` hook →
 * `{ value, loading, error, updateValue, setValue }`, on `tad-store/renderer`'s
 * client and React's `useSyncExternalStore`:
 *
 * - every component reads the same cache in the same render (no tearing under
 *   concurrent rendering);
 * - a component re-renders only when the value at its key changes (a
 *   change's parent or child included, compared by identity, which the
 *   client's structural sharing makes deep equality), or when the cache's
 *   status does (loading → ready, an error);
 * - `updateValue(v)` writes through the main process (the value arrives with
 *   the change event, never optimistically); a refused write sets `error`.
 *
 * The client is the nearest `<StoreProvider client={...}>`'s, else
 * `getDefaultClient()` (on `window.storeAPI`), loaded when the first hook
 * subscribes. React is a peer dependency (>= 18).
 */

const React = require('react');
const { getDefaultClient } = require('./renderer.js');

const { createContext, createElement, useCallback, useContext, useRef, useState, useSyncExternalStore } = React;

if (typeof useSyncExternalStore !== 'function') {
  throw new Error('tad-store/react needs React 18 or later (useSyncExternalStore)');
}

const StoreContext = createContext(null);
StoreContext.displayName = 'TadStoreContext';

/** Gives its subtree's hooks `client` (a `tad-store/renderer` client). */
function StoreProvider(props) {
  return createElement(StoreContext.Provider, { value: props.client || null }, props.children);
}

/** The client the hooks here use: the nearest StoreProvider's, else the default client. */
function useStoreClient() {
  return useContext(StoreContext) || getDefaultClient();
}

// what a render reads before the cache is loaded, and after loading failed
const LOADING = Symbol('tad-store loading');
const FAILED = Symbol('tad-store failed');
const NOTHING = Object.freeze({});

function useClientSnapshot(client, read, subscribeTo) {
  const subscribe = useCallback((onChange) => {
    const offValue = subscribeTo(onChange);
    const offStatus = client.subscribeStatus(onChange);
    if (client.status === 'idle' || client.status === 'error') client.initialize().catch(() => {});
    return () => {
      offValue();
      offStatus();
    };
  }, [client, subscribeTo]);
  const getSnapshot = () => (client.status === 'ready' ? read() : client.status === 'error' ? FAILED : LOADING);
  return useSyncExternalStore(subscribe, getSnapshot, () => LOADING);
}

function useStoreOf(client, key, defaultValue) {
  const subscribeTo = useCallback(onChange => client.subscribe(key, onChange), [client, key]);
  const snapshot = useClientSnapshot(client, () => client.peek(key), subscribeTo);
  const [updateError, setUpdateError] = useState(null);
  const fallback = useRef(defaultValue);
  fallback.current = defaultValue;
  const updateValue = useCallback(async (next) => {
    setUpdateError(null);
    try {
      let value = next;
      if (typeof next === 'function') {
        const current = client.status === 'ready' ? client.peek(key) : undefined;
        value = next(current === undefined ? fallback.current : current);
      }
      await client.set(key, value);
    } catch (error) {
      setUpdateError(error);
    }
  }, [client, key]);
  const loading = snapshot === LOADING;
  const value = snapshot === LOADING || snapshot === FAILED || snapshot === undefined ? defaultValue : snapshot;
  const error = updateError || (snapshot === FAILED ? client.error : null);
  return { value, loading, error, updateValue, setValue: updateValue };
}

function useStoreBulkOf(client) {
  const subscribeTo = useCallback(onChange => client.subscribe('*', onChange), [client]);
  const snapshot = useClientSnapshot(client, () => client.getAll(), subscribeTo);
  const updateMultiple = useCallback(data => client.setMultiple(data), [client]);
  const loading = snapshot === LOADING;
  return {
    data: snapshot === LOADING || snapshot === FAILED ? NOTHING : snapshot,
    loading,
    error: snapshot === FAILED ? client.error : null,
    updateMultiple,
  };
}

/**
 * `{ value, loading, error, updateValue, setValue }` for `key`: `value` is the
 * stored value (frozen), or `defaultValue` while loading or when there is
 * none; `updateValue(v)` (also `updateValue(old => v)`) writes it.
 */
function useStore(key, defaultValue) {
  return useStoreOf(useStoreClient(), key, defaultValue);
}

/** The whole store: `{ data, loading, error, updateMultiple }` (re-renders on every change). */
function useStoreBulk() {
  return useStoreBulkOf(useStoreClient());
}

/** `useStore` / `useStoreBulk` bound to `client` (typed with its store type), ignoring StoreProvider. */
function createStoreHooks(client) {
  if (!client || typeof client.subscribe !== 'function' || typeof client.subscribeStatus !== 'function') {
    throw new TypeError('Expected `client` to be a tad-store/renderer client');
  }
  return {
    useStore: (key, defaultValue) => useStoreOf(client, key, defaultValue),
    useStoreBulk: () => useStoreBulkOf(client),
  };
}

module.exports = { useStore, useStoreBulk, useStoreClient, StoreProvider, createStoreHooks };
