/**
 * The version of the public contract (`shared/contract/`) this build serves: GET /health and the `apiVersion`
 * query report it, and the contract test checks it against the highest "since N" in the contract.
 */
export const CONTRACT_VERSION = 2;
