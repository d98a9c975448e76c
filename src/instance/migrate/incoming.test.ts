import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { INCOMING_ANSWERING, INCOMING_LISTENING, INCOMING_RESUMED, stepTime } from "./incoming.ts";

describe("stepTime", () => {
  it("reads the time of a timed step, and only of that step", () => {
    assert.equal(stepTime(`${INCOMING_RESUMED} at 1796531343315.446`, INCOMING_RESUMED), 1796531343315.446);
    assert.equal(stepTime(`${INCOMING_ANSWERING} at 1796531343400`, INCOMING_ANSWERING), 1796531343400);
    assert.equal(stepTime(`${INCOMING_ANSWERING} at 1796531343400`, INCOMING_RESUMED), undefined);
    assert.equal(stepTime(INCOMING_LISTENING, INCOMING_RESUMED), undefined);
  });

  it("refuses a time that is not a positive number", () => {
    assert.equal(stepTime(`${INCOMING_RESUMED} at soon`, INCOMING_RESUMED), undefined);
    assert.equal(stepTime(`${INCOMING_RESUMED} at -5`, INCOMING_RESUMED), undefined);
    assert.equal(stepTime(`${INCOMING_RESUMED} at `, INCOMING_RESUMED), undefined);
  });
});
