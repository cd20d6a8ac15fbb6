/**
 * Writing encoder versions: the model topic's settings and a publisher that joins the caller's
 * transaction.
 */
package io.mocostream.encoder.publish;
