import assert from 'node:assert/strict';

export interface ReceiptPart {
  readonly index: number;
  readonly leaf_hash: string;
}
export interface Receipt {
  readonly decision: ReceiptPart;
  readonly result?: ReceiptPart;
}

/** The Gatehouse audit receipt of a tool result; fails the test when there is none. */
export function receiptOf(result: { _meta?: Record<string, unknown> }): Receipt {
  const r = result._meta?.['gatehouse/receipt'] as Receipt | undefined;
  assert.ok(r, 'the result carries a gatehouse/receipt in _meta');
  assert.ok(Number.isSafeInteger(r.decision.index));
  assert.match(r.decision.leaf_hash, /^[0-9a-f]{64}$/);
  return r;
}

/**
 * The result as the upstream sent it: the receipt and the provenance label Gatehouse adds are
 * checked and removed, so a pass-through comparison with a direct call stays exact.
 */
export function withoutReceipt<T extends { _meta?: Record<string, unknown> }>(result: T): T {
  const r = receiptOf(result);
  assert.ok(r.result, 'a forwarded call has a result entry');
  const {
    'gatehouse/receipt': _receipt,
    'gatehouse/provenance': label,
    ...meta
  } = result._meta ?? {};
  assert.equal(
    (label as { entry?: unknown } | undefined)?.entry,
    r.result.index,
    'a forwarded result is labelled with its provenance and result entry',
  );
  const { _meta: _dropped, ...rest } = result;
  return (Object.keys(meta).length > 0 ? { ...rest, _meta: meta } : rest) as T;
}
