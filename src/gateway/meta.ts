/** The audit receipt in `_meta`: where the call's entries are, to fetch inclusion proofs later. */
export const RECEIPT_META = 'gatehouse/receipt';

/** The provenance label of a result in `_meta`: its source, trust level and audit entry. */
export const PROVENANCE_META = 'gatehouse/provenance';
