import { isUuid } from '../../ids.js';
import { db, type Queryable } from '../client.js';
import type { AuditEntity, AuditEntry } from '../models/audit-log.js';
import { findCustomerById } from '../models/customers.js';
import { findOrderBuyer } from '../models/order-buyer.js';
import { findEventById } from '../models/events.js';
import { listOrderItems } from '../models/order-items.js';
import { findOrderById } from '../models/orders.js';
import { listFailuresForOrder } from '../models/payment-failures.js';
import { isCaptured, listPaymentsForOrder, refundableOf } from '../models/payments.js';
import { listRefundsForOrder } from '../models/refunds.js';

/**
 * The staff view of one order (GET /api/orders/{id} with an API key holding orders:read): the order,
 * its customer and event, every ticket, every payment attempt, failures, refunds and the audit
 * timeline of the order, its payments and its refunds. Never the access-token hash.
 */

const AUDIT_COLUMNS = `id::float8 AS id, entity_type AS "entityType", entity_id AS "entityId", action,
  actor_type AS "actorType", actor_id AS "actorId", ip, user_agent AS "userAgent", request_id AS "requestId", reason,
  old_values AS "oldValues", new_values AS "newValues", created_at AS "createdAt"`;

const TIMELINE_LIMIT = 1000;

/** Audit entries of the order and of its payments and refunds, oldest first. */
export async function orderAuditTimeline(orderId: string, q: Queryable = db): Promise<AuditEntry[]> {
  return await q.queryMany<AuditEntry>(
    `SELECT ${AUDIT_COLUMNS} FROM payment_audit_log
     WHERE (entity_type, entity_id) IN (
       SELECT 'order', $1::text
       UNION ALL SELECT 'payment', id::text FROM payments WHERE order_id = $1::uuid
       UNION ALL SELECT 'refund', id::text FROM refunds WHERE order_id = $1::uuid)
     ORDER BY created_at, id
     LIMIT ${TIMELINE_LIMIT}`,
    [orderId],
  );
}

/** Audit entries of any one entity, oldest first. */
export async function entityAuditTimeline(entityType: AuditEntity, entityId: string, q: Queryable = db): Promise<AuditEntry[]> {
  if (entityType === 'order') return await orderAuditTimeline(entityId, q);
  return await q.queryMany<AuditEntry>(
    `SELECT ${AUDIT_COLUMNS} FROM payment_audit_log WHERE entity_type = $1 AND entity_id = $2
     ORDER BY created_at, id LIMIT ${TIMELINE_LIMIT}`,
    [entityType, entityId],
  );
}

const iso = (date: Date | null | undefined) => date?.toISOString() ?? null;

/** The staff view of an order; undefined when there is no such order (or the id is not a uuid). */
export async function getOrderDetailForAdmin(orderId: string | null | undefined, q: Queryable = db) {
  if (!isUuid(orderId)) return undefined;
  const order = await findOrderById(q, orderId);
  if (!order) return undefined;
  const [customer, buyer, event, items, payments, failures, refunds, audit] = await Promise.all([
    findCustomerById(q, order.customerId),
    findOrderBuyer(q, order.id),
    findEventById(q, order.eventId),
    listOrderItems(q, order.id),
    listPaymentsForOrder(q, order.id),
    listFailuresForOrder(q, order.id),
    listRefundsForOrder(q, order.id),
    orderAuditTimeline(order.id, q),
  ]);
  const captured = payments.find((p) => isCaptured(p.status));
  const pendingRefundCents = refunds
    .filter((r) => r.status === 'pending' && r.paymentId === captured?.id)
    .reduce((sum, r) => sum + r.amountCents, 0);
  return {
    order: {
      id: order.id,
      orderNumber: order.orderNumber,
      status: order.status,
      provider: order.provider,
      currency: order.currency,
      subtotalCents: order.subtotalCents,
      discountCents: order.discountCents,
      totalCents: order.totalCents,
      refundedCents: order.refundedCents,
      slidingScalePercent: order.slidingScalePercent,
      attentionReason: order.attentionReason,
      holdExpiresAt: iso(order.holdExpiresAt),
      metadata: order.metadata,
      completedAt: iso(order.completedAt),
      createdAt: iso(order.createdAt),
      updatedAt: iso(order.updatedAt),
      refundableCents: captured ? refundableOf(captured, pendingRefundCents) : 0,
      pendingRefundCents,
    },
    event: event ? { id: event.id, slug: event.slug, name: event.name, startsAt: iso(event.startsAt) } : null,
    customer: customer
      ? {
          id: customer.id,
          // The details given with this order (issue 18); the customer record for older orders.
          email: buyer?.email ?? customer.email,
          firstName: buyer?.firstName ?? customer.firstName,
          lastName: buyer?.lastName ?? customer.lastName,
          phone: buyer ? buyer.phone : customer.phone,
          marketingConsent: customer.marketingConsent,
        }
      : null,
    items: items.map((item) => ({
      id: item.id,
      ticketTypeId: item.ticketTypeId,
      ticketTypeCode: item.ticketTypeCode,
      ticketTypeName: item.ticketTypeName,
      unitPriceCents: item.unitPriceCents,
      discountCents: item.discountCents,
      priceCents: item.priceCents,
      currency: item.currency,
      attendee: { firstName: item.attendeeFirstName, lastName: item.attendeeLastName, email: item.attendeeEmail },
      status: item.status,
    })),
    payments: payments.map((p) => ({
      id: p.id,
      provider: p.provider,
      status: p.status,
      amountCents: p.amountCents,
      currency: p.currency,
      refundedCents: p.refundedCents,
      disputedCents: p.disputedCents,
      providerSessionId: p.providerSessionId,
      providerPaymentId: p.providerPaymentId,
      method: { type: p.methodType, brand: p.methodBrand, last4: p.methodLast4 },
      failureCount: p.failureCount,
      failureCode: p.failureCode,
      failureMessage: p.failureMessage,
      completedAt: iso(p.completedAt),
      createdAt: iso(p.createdAt),
    })),
    failures: failures.map((f) => ({
      id: f.id,
      paymentId: f.paymentId,
      provider: f.provider,
      code: f.code,
      declineCode: f.declineCode,
      message: f.message,
      retryCount: f.retryCount,
      createdAt: iso(f.createdAt),
    })),
    refunds: refunds.map((r) => ({
      id: r.id,
      paymentId: r.paymentId,
      provider: r.provider,
      amountCents: r.amountCents,
      currency: r.currency,
      status: r.status,
      reason: r.reason,
      source: r.source,
      providerRefundId: r.providerRefundId,
      requestedBy: r.requestedBy,
      releaseTickets: r.releaseTickets,
      failureReason: r.failureReason,
      completedAt: iso(r.completedAt),
      createdAt: iso(r.createdAt),
    })),
    audit: audit.map(presentAuditEntry),
  };
}

export type AdminOrderDetail = NonNullable<Awaited<ReturnType<typeof getOrderDetailForAdmin>>>;

export function presentAuditEntry(entry: AuditEntry) {
  return {
    id: entry.id,
    entityType: entry.entityType,
    entityId: entry.entityId,
    action: entry.action,
    actor: { type: entry.actorType, id: entry.actorId, ip: entry.ip, userAgent: entry.userAgent, requestId: entry.requestId },
    reason: entry.reason,
    oldValues: entry.oldValues,
    newValues: entry.newValues,
    createdAt: entry.createdAt.toISOString(),
  };
}
