/** Bulk books for reconciliation tests (shared with the reconcile benchmark). */
export { type BookCapture, type BookRefund, isolatedDay, type SeededBooks, seedBooks } from '../../scripts/lib/recon-books.js';
