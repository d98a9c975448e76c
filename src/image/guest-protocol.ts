/**
 * Version of the line protocol the image's guest agent (guest/snapvm-guest-agent) speaks; it answers
 * PING with it. The image records it, so an image with an older agent is rebuilt; the host side of
 * the protocol is driver/guest/protocol.ts.
 */
export const GUEST_PROTOCOL_VERSION = 2;
