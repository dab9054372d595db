// Parties with the official client over JSON and protobuf sockets: create, join (open and
// closed), join requests, accept, remove, promote, leave and leader hand-over, close, party data,
// the presence and leader events every member gets, the party matchmaker (a party matched as one
// unit with solo players), realtime before/after hooks on every party message (Rust; a second
// server runs tests/lua/parties.lua), and Nakama's errors for bad requests (the socket stays
// open).

import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { WebSocketAdapterPb } from "@heroiclabs/nakama-js-protobuf";

import { EVENT_WAIT_MS, UUID_RE, makeClient, text } from "./lib/client.mjs";
import { repoRoot, sleep, startServer, uniqueName } from "./lib/server.mjs";

const PARTY_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}\.nakama$/;

const HANDLERS = [
  "onparty",
  "onpartypresence",
  "onpartyleader",
  "onpartyclose",
  "onpartydata",
  "onpartyjoinrequest",
  "onpartymatchmakerticket",
  "onmatchmakermatched",
];

/**
 * Records every party event a socket gets, so a test can wait for one (`next`) or check that
 * none came (`none`) without racing handlers against each other.
 */
function record(socket) {
  const events = [];
  let wake = () => {};
  for (const handler of HANDLERS) {
    socket[handler] = (event) => {
      events.push({ handler, event });
      wake();
    };
  }
  return {
    events,
    /** The first recorded event of `handler` that `pick` accepts, taken out of the record. */
    async next(handler, pick = () => true, ms = EVENT_WAIT_MS) {
      const deadline = Date.now() + ms;
      for (;;) {
        const at = events.findIndex((e) => e.handler === handler && pick(e.event));
        if (at >= 0) {
          return events.splice(at, 1)[0].event;
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(`no ${handler} within ${ms} ms; got ${JSON.stringify(events.map((e) => e.handler))}`);
        }
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
    /** Fails if an event of `handler` was recorded. */
    none(handler) {
      const got = events.filter((e) => e.handler === handler);
      assert.deepEqual(got, [], `unexpected ${handler}`);
    },
  };
}

/** Sends an envelope with its own cid and resolves or rejects with the answer, for requests
 * the client sends without a cid (party_data_send). */
function sendWithCid(socket, message) {
  const cid = String(900000 + Math.floor(Math.random() * 99999));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no answer")), EVENT_WAIT_MS);
    socket.cIds[cid] = {
      resolve: (m) => {
        clearTimeout(timer);
        resolve(m);
      },
      reject: (e) => {
        clearTimeout(timer);
        reject(e);
      },
    };
    socket.adapter.send({ cid, ...message });
  });
}

async function rejectsWithError(promise, code, message) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.code ?? 0, code, JSON.stringify(e));
    assert.equal(e.message, message);
    return true;
  });
}

/** A presence's three identifying fields (the protobuf decoder adds defaults of the others). */
const who = (p) => p && { user_id: p.user_id, session_id: p.session_id, username: p.username };
/** Asserts an empty answer: the envelope with only its cid. */
function assertEmpty(answer) {
  assert.deepEqual(Object.keys(answer ?? {}).filter((k) => k !== "cid"), [], JSON.stringify(answer));
}
const presenceOf = (p) => ({ user_id: p.session.user_id, session_id: p.sessionId, username: p.username });

let server;
let client;

before(async () => {
  server = await startServer({ label: "parties", args: ["--matchmaker.interval_sec", "1"] });
  client = makeClient(server);
});
after(async () => {
  await server?.stop();
});

for (const format of ["json", "protobuf"]) {
  describe(`parties (${format})`, () => {
    const sockets = [];
    after(() => {
      for (const s of sockets) {
        s.disconnect(false);
      }
    });

    /** A new user with a connected socket in this suite's format, its events recorded. */
    async function player() {
      const username = uniqueName("u");
      const session = await client.authenticateDevice(uniqueName("dev"), true, username);
      const adapter = format === "protobuf" ? new WebSocketAdapterPb() : undefined;
      const socket = client.createSocket(false, false, adapter);
      const events = record(socket);
      await socket.connect(session, false);
      sockets.push(socket);
      return { session, socket, username, events, sessionId: undefined };
    }

    /** A party created by `leader` (its session id learnt from the answer). */
    async function create(leader, open, maxSize) {
      const party = await leader.socket.createParty(open, maxSize);
      leader.sessionId = party.self.session_id;
      await leader.events.next("onpartypresence", (e) => e.party_id === party.party_id);
      return party;
    }

    test("create: the leader is the first member; the answer comes before its presence event", async () => {
      const a = await player();
      const party = await a.socket.createParty(true, 3);
      assert.match(party.party_id, PARTY_ID_RE);
      assert.equal(party.open, true);
      assert.equal(party.max_size, 3);
      assert.equal(party.self.user_id, a.session.user_id);
      assert.equal(party.self.username, a.username);
      assert.match(party.self.session_id, UUID_RE);
      assert.deepEqual(who(party.leader), who(party.self));
      assert.deepEqual(party.presences.map(who), [who(party.self)]);
      const joined = await a.events.next("onpartypresence");
      assert.equal(joined.party_id, party.party_id);
      assert.deepEqual(joined.joins.map(who), [who(party.self)]);
      assert.deepEqual(joined.leaves ?? [], []);
      // A closed party: `open` false.
      const closed = await a.socket.createParty(false, 2);
      assert.ok(!closed.open);
      assert.notEqual(closed.party_id, party.party_id);
    });

    test("open party: join, the party to the joiner, presence events, full, data to the others", async () => {
      const [a, b, c] = [await player(), await player(), await player()];
      const party = await create(a, true, 2);
      assertEmpty(await b.socket.joinParty(party.party_id));
      const got = await b.events.next("onparty");
      assert.equal(got.party_id, party.party_id);
      assert.equal(got.self.user_id, b.session.user_id);
      b.sessionId = got.self.session_id;
      assert.deepEqual(who(got.leader), who(party.self));
      assert.equal(got.max_size, 2);
      assert.equal(got.open, true);
      assert.deepEqual(got.presences.map((p) => p.user_id), [a.session.user_id, b.session.user_id]);
      for (const p of [a, b]) {
        const event = await p.events.next("onpartypresence", (e) => e.joins?.length);
        assert.deepEqual(event.joins.map(who), [presenceOf(b)]);
      }

      // max_size counts the leader: a third is refused.
      await rejectsWithError(c.socket.joinParty(party.party_id), 3, "Error joining party: party full");

      // Data goes to every other member, with the sender and the op code.
      await a.socket.sendPartyData(party.party_id, 7, "hello");
      const data = await b.events.next("onpartydata");
      assert.equal(data.party_id, party.party_id);
      assert.equal(data.op_code, 7);
      assert.equal(text(data.data), "hello");
      assert.deepEqual(who(data.presence), presenceOf(a));
      await b.socket.sendPartyData(party.party_id, 8, "back");
      const back = await a.events.next("onpartydata");
      assert.equal(back.op_code, 8);
      assert.equal(back.presence.user_id, b.session.user_id);
      await sleep(100);
      a.events.none("onpartydata");
      b.events.none("onpartydata");
      // Data to a party one is not in.
      await rejectsWithError(
        sendWithCid(c.socket, { party_data_send: { party_id: party.party_id, op_code: "1", data: "" } }),
        3,
        "Error sending party data: party member not found",
      );
    });

    test("promote, then the leader leaves: leadership passes to the oldest member", async () => {
      const [a, b, c] = [await player(), await player(), await player()];
      const party = await create(a, true, 4);
      for (const p of [b, c]) {
        await p.socket.joinParty(party.party_id);
        p.sessionId = (await p.events.next("onparty")).self.session_id;
      }
      // Promote is answered with an empty reply; every member hears of the new leader.
      // (nakama-js resolves promotePartyMember with the absent party_leader of the reply)
      assert.equal(await a.socket.promotePartyMember(party.party_id, presenceOf(b)), undefined);
      for (const p of [a, b, c]) {
        const leader = await p.events.next("onpartyleader");
        assert.equal(leader.party_id, party.party_id);
        assert.deepEqual(who(leader.presence), presenceOf(b));
      }
      // A is no longer the leader.
      await rejectsWithError(
        a.socket.promotePartyMember(party.party_id, presenceOf(c)),
        3,
        "Error promoting new party leader: party leader only",
      );
      await rejectsWithError(
        b.socket.promotePartyMember(party.party_id, { ...presenceOf(c), username: "someone-else" }),
        3,
        "Error promoting new party leader: party member not found",
      );
      // The leader leaves: the oldest member (A) leads; the others see B go.
      await b.socket.leaveParty(party.party_id);
      for (const p of [a, c]) {
        const leader = await p.events.next("onpartyleader");
        assert.deepEqual(who(leader.presence), presenceOf(a));
        const left = await p.events.next("onpartypresence", (e) => e.leaves?.length);
        assert.deepEqual(left.leaves.map(who), [presenceOf(b)]);
      }
      // A leads again; a disconnect passes leadership on too.
      a.socket.disconnect(false);
      const leader = await c.events.next("onpartyleader");
      assert.deepEqual(who(leader.presence), presenceOf(c));
      const left = await c.events.next("onpartypresence", (e) => e.leaves?.length);
      assert.deepEqual(left.leaves.map(who), [presenceOf(a)]);
      const list = await c.socket.listPartyJoinRequests(party.party_id);
      assert.deepEqual(list.presences ?? [], []);
    });

    test("closed party: join requests to the leader, list, accept, decline, remove, close", async () => {
      const [a, b, c, d] = [await player(), await player(), await player(), await player()];
      const party = await create(a, false, 3);
      // A join is a request: an empty answer, the leader is told, no party yet.
      assertEmpty(await b.socket.joinParty(party.party_id));
      const request = await a.events.next("onpartyjoinrequest");
      assert.equal(request.party_id, party.party_id);
      assert.equal(request.presences.length, 1);
      assert.equal(request.presences[0].user_id, b.session.user_id);
      b.sessionId = request.presences[0].session_id;
      await c.socket.joinParty(party.party_id);
      c.sessionId = (await a.events.next("onpartyjoinrequest")).presences[0].session_id;
      await sleep(100);
      b.events.none("onparty");

      const list = await a.socket.listPartyJoinRequests(party.party_id);
      assert.equal(list.party_id, party.party_id);
      assert.deepEqual(list.presences.map(who), [presenceOf(b), presenceOf(c)]);
      // Only the leader sees or answers requests.
      await rejectsWithError(
        b.socket.listPartyJoinRequests(party.party_id),
        3,
        "Error listing party join requests: party leader only",
      );
      await rejectsWithError(
        b.socket.acceptPartyMember(party.party_id, presenceOf(c)),
        3,
        "Error accepting party join request: party leader only",
      );

      // Accept B: B gets the party, members its presence.
      assertEmpty(await a.socket.acceptPartyMember(party.party_id, presenceOf(b)));
      const got = await b.events.next("onparty");
      assert.deepEqual(got.presences.map((p) => p.user_id), [a.session.user_id, b.session.user_id]);
      assert.ok(!got.open);
      await a.events.next("onpartypresence", (e) => e.joins?.[0]?.user_id === b.session.user_id);
      await rejectsWithError(
        a.socket.acceptPartyMember(party.party_id, { ...presenceOf(d), session_id: d.session.user_id }),
        3,
        "Error accepting party join request: party join request not found",
      );

      // Decline C: its request is gone, C is told nothing.
      assertEmpty(await a.socket.removePartyMember(party.party_id, presenceOf(c)));
      assert.deepEqual((await a.socket.listPartyJoinRequests(party.party_id)).presences ?? [], []);

      // Remove B: B gets party_close, A sees B leave.
      await rejectsWithError(
        a.socket.removePartyMember(party.party_id, presenceOf(a)),
        3,
        "Error removing party member or join request: party cannot remove self",
      );
      await a.socket.removePartyMember(party.party_id, presenceOf(b));
      const closedForB = await b.events.next("onpartyclose");
      assert.equal(closedForB.party_id, party.party_id);
      const left = await a.events.next("onpartypresence", (e) => e.leaves?.length);
      assert.deepEqual(left.leaves.map(who), [presenceOf(b)]);
      await rejectsWithError(
        a.socket.removePartyMember(party.party_id, presenceOf(b)),
        3,
        "Error removing party member or join request: party member not found",
      );

      // D joins (accepted), then the leader closes: everyone gets party_close, the party is gone.
      await d.socket.joinParty(party.party_id);
      d.sessionId = (await a.events.next("onpartyjoinrequest")).presences[0].session_id;
      await a.socket.acceptPartyMember(party.party_id, presenceOf(d));
      await d.events.next("onparty");
      await rejectsWithError(d.socket.closeParty(party.party_id), 3, "Error closing party: party leader only");
      assertEmpty(await a.socket.closeParty(party.party_id));
      for (const p of [a, d]) {
        const closed = await p.events.next("onpartyclose");
        assert.equal(closed.party_id, party.party_id);
      }
      await rejectsWithError(b.socket.joinParty(party.party_id), 3, "Error joining party: party not found");
      await rejectsWithError(a.socket.closeParty(party.party_id), 3, "Error closing party: party not found");
    });

    test("a full closed party refuses requests and accepts; a party of one is full", async () => {
      const [a, b, c] = [await player(), await player(), await player()];
      const solo = await create(a, true, 1);
      await rejectsWithError(b.socket.joinParty(solo.party_id), 3, "Error joining party: party full");
      const party = await create(a, false, 2);
      await b.socket.joinParty(party.party_id);
      b.sessionId = (await a.events.next("onpartyjoinrequest")).presences[0].session_id;
      await c.socket.joinParty(party.party_id);
      c.sessionId = (await a.events.next("onpartyjoinrequest")).presences[0].session_id;
      await a.socket.acceptPartyMember(party.party_id, presenceOf(b));
      await b.events.next("onparty");
      await rejectsWithError(
        a.socket.acceptPartyMember(party.party_id, presenceOf(c)),
        3,
        "Error accepting party join request: party full",
      );
      await rejectsWithError(c.socket.joinParty(party.party_id), 3, "Error joining party: party full");
    });

    test("party matchmaker: a party of 2 and 2 solo players make one 4-player match", async () => {
      const [a, b, c, d] = [await player(), await player(), await player(), await player()];
      const party = await create(a, true, 2);
      await b.socket.joinParty(party.party_id);
      b.sessionId = (await b.events.next("onparty")).self.session_id;
      const mode = uniqueName("m");
      const query = `+properties.mode:${mode}`;
      await rejectsWithError(
        b.socket.addMatchmakerParty(party.party_id, query, 4, 4, { mode }),
        3,
        "Error adding party to matchmaker: party leader only",
      );
      // The leader gets the ticket in the answer, every other member as an event.
      const ticket = await a.socket.addMatchmakerParty(party.party_id, query, 4, 4, { mode });
      assert.equal(ticket.party_id, party.party_id);
      assert.match(ticket.ticket, UUID_RE);
      const told = await b.events.next("onpartymatchmakerticket");
      assert.deepEqual({ party_id: told.party_id, ticket: told.ticket }, { party_id: party.party_id, ticket: ticket.ticket });
      await sleep(100);
      a.events.none("onpartymatchmakerticket");
      // A party's ticket is not the leader's own to remove.
      await rejectsWithError(a.socket.removeMatchmaker(ticket.ticket), 3, "Matchmaker ticket not found");

      const solo = [];
      for (const p of [c, d]) {
        solo.push((await p.socket.addMatchmaker(query, 4, 4, { mode })).ticket);
      }
      const matched = [];
      for (const p of [a, b, c, d]) {
        matched.push(await p.events.next("onmatchmakermatched", () => true, 8000));
      }
      const [ma, mb, mc, md] = matched;
      for (const m of matched) {
        assert.equal(m.users.length, 4, JSON.stringify(m));
        assert.ok(m.token, JSON.stringify(m));
        assert.equal(m.token, ma.token);
        assert.deepEqual(
          m.users.map((u) => u.presence.user_id).sort(),
          [a, b, c, d].map((p) => p.session.user_id).sort(),
        );
        const inParty = m.users.filter((u) => u.party_id === party.party_id).map((u) => u.presence.user_id);
        assert.deepEqual(inParty.sort(), [a.session.user_id, b.session.user_id].sort());
      }
      assert.equal(ma.ticket, ticket.ticket);
      assert.equal(mb.ticket, ticket.ticket);
      assert.equal(ma.self.presence.user_id, a.session.user_id);
      assert.equal(mb.self.presence.user_id, b.session.user_id);
      assert.equal(mb.self.party_id, party.party_id);
      assert.equal(mc.ticket, solo[0]);
      assert.equal(md.ticket, solo[1]);
      assert.ok(!mc.self.party_id);
      assert.equal(mc.self.string_properties.mode, mode);
    });

    test("party matchmaker: remove, a member leaving or joining removes the ticket, bad input", async () => {
      const [a, b, c] = [await player(), await player(), await player()];
      const party = await create(a, true, 3);
      await b.socket.joinParty(party.party_id);
      await b.events.next("onparty");
      const query = `+properties.mode:${uniqueName("m")}`;
      const first = await a.socket.addMatchmakerParty(party.party_id, query, 3, 3);
      await rejectsWithError(
        b.socket.removeMatchmakerParty(party.party_id, first.ticket),
        3,
        "Error closing party: party leader only",
      );
      assertEmpty(await a.socket.removeMatchmakerParty(party.party_id, first.ticket));
      await rejectsWithError(
        a.socket.removeMatchmakerParty(party.party_id, first.ticket),
        3,
        "Error closing party: matchmaker ticket not found",
      );
      // A member joining, or leaving, takes the party's tickets out.
      const second = await a.socket.addMatchmakerParty(party.party_id, query, 3, 3);
      await c.socket.joinParty(party.party_id);
      await c.events.next("onparty");
      await rejectsWithError(
        a.socket.removeMatchmakerParty(party.party_id, second.ticket),
        3,
        "Error closing party: matchmaker ticket not found",
      );
      const third = await a.socket.addMatchmakerParty(party.party_id, query, 3, 3);
      await b.socket.leaveParty(party.party_id);
      await a.events.next("onpartypresence", (e) => e.leaves?.length);
      await rejectsWithError(
        a.socket.removeMatchmakerParty(party.party_id, third.ticket),
        3,
        "Error closing party: matchmaker ticket not found",
      );
      // Bad input.
      await rejectsWithError(
        a.socket.addMatchmakerParty(party.party_id, query, 1, 3),
        3,
        "Invalid minimum count, must be >= 2",
      );
      await rejectsWithError(
        a.socket.addMatchmakerParty(party.party_id, "+properties.x:/[/", 2, 3),
        3,
        "Error adding party to matchmaker: matchmaker query invalid",
      );
      await rejectsWithError(
        a.socket.addMatchmakerParty("0b7d1c4e-8a3f-4b8e-9c1d-2e3f4a5b6c7d.nakama", query, 2, 3),
        3,
        "Error adding party to matchmaker: party not found",
      );
      await rejectsWithError(a.socket.removeMatchmakerParty(party.party_id, ""), 3, "Invalid matchmaker ticket");
      await rejectsWithError(a.socket.removeMatchmakerParty("bad", "t"), 3, "Invalid party ID");
    });

    test("realtime before and after hooks run on every party message (Rust)", async () => {
      const [a, b] = [await player(), await player()];
      // A before hook refusing a message: the error is the hook's, code 7 (runtime function
      // exception), and nothing more happens.
      await rejectsWithError(a.socket.createParty(true, 13), 7, "thirteen is unlucky");
      const party = await create(a, false, 3);
      await b.socket.joinParty(party.party_id);
      b.sessionId = (await a.events.next("onpartyjoinrequest")).presences[0].session_id;
      await a.socket.listPartyJoinRequests(party.party_id);
      await a.socket.acceptPartyMember(party.party_id, presenceOf(b));
      await b.events.next("onparty");
      // A before hook rewriting a message: op code 13 arrives as 14.
      await a.socket.sendPartyData(party.party_id, 13, "x");
      assert.equal((await b.events.next("onpartydata")).op_code, 14);
      await a.socket.promotePartyMember(party.party_id, presenceOf(b));
      await a.events.next("onpartyleader");
      await b.socket.promotePartyMember(party.party_id, presenceOf(a));
      await a.events.next("onpartyleader", (e) => e.presence.user_id === a.session.user_id);
      const { ticket } = await a.socket.addMatchmakerParty(party.party_id, `+properties.m:${uniqueName("m")}`, 3, 3);
      await a.socket.removeMatchmakerParty(party.party_id, ticket);
      await a.socket.removePartyMember(party.party_id, presenceOf(b));
      await a.socket.closeParty(party.party_id);
      await a.socket.leaveParty(party.party_id);

      const counts = async (p) => JSON.parse((await p.socket.rpc("rust_party_hook_counts", "")).payload);
      const mine = await counts(a);
      const kinds = [
        "party_create",
        "party_join_request_list",
        "party_accept",
        "party_data_send",
        "party_promote",
        "party_matchmaker_add",
        "party_matchmaker_remove",
        "party_remove",
        "party_close",
        "party_leave",
      ];
      for (const kind of kinds) {
        assert.ok(mine.before[kind] >= 1, `before ${kind}: ${JSON.stringify(mine)}`);
        assert.ok(mine.after[kind] >= 1, `after ${kind}: ${JSON.stringify(mine)}`);
      }
      // The refused create ran the before hook only.
      assert.equal(mine.before.party_create, 2);
      assert.equal(mine.after.party_create, 1);
      const theirs = await counts(b);
      assert.equal(theirs.before.party_join, 1);
      assert.equal(theirs.after.party_join, 1);
      assert.equal(theirs.after.party_promote, 1);
    });

    test("bad input: Nakama's errors, and the socket stays open", async () => {
      const a = await player();
      const unknown = "0b7d1c4e-8a3f-4b8e-9c1d-2e3f4a5b6c7d.nakama";
      await rejectsWithError(a.socket.createParty(true, 257), 3, "Invalid party max size, must be 1-256");
      await rejectsWithError(a.socket.createParty(true, -1), 3, "Invalid party max size, must be 1-256");
      await rejectsWithError(a.socket.joinParty("nodot"), 3, "Invalid party ID");
      await rejectsWithError(a.socket.joinParty("not-a-uuid.nakama"), 3, "Invalid party ID");
      await rejectsWithError(a.socket.joinParty(unknown), 3, "Error joining party: party not found");
      await rejectsWithError(
        a.socket.joinParty(unknown.replace(".nakama", ".other")),
        3,
        "Error joining party: party not found",
      );
      await rejectsWithError(
        a.socket.promotePartyMember(unknown, { user_id: a.session.user_id, session_id: "", username: a.username }),
        3,
        "Invalid presence",
      );
      await rejectsWithError(
        a.socket.acceptPartyMember(unknown, { user_id: a.session.user_id, session_id: a.session.user_id, username: a.username }),
        3,
        "Error accepting party join request: party not found",
      );
      await rejectsWithError(a.socket.listPartyJoinRequests(unknown), 3, "Error listing party join requests: party not found");
      await rejectsWithError(
        sendWithCid(a.socket, { party_data_send: { party_id: unknown, op_code: "1", data: "" } }),
        3,
        "Error sending party data: party not found",
      );
      // Leaving a party one is not in is fine.
      assertEmpty(await a.socket.leaveParty(unknown));
      // Still open.
      const party = await a.socket.createParty(true, 2);
      assert.match(party.party_id, PARTY_ID_RE);
    });
  });
}

describe("parties: Lua realtime hooks", () => {
  let luaServer;
  before(async () => {
    luaServer = await startServer({
      label: "parties-lua",
      bundled: [],
      args: ["--runtime.path", path.join(repoRoot, "tests", "lua")],
    });
  });
  after(async () => {
    await luaServer?.stop();
  });

  test("a Lua before hook refuses a party and rewrites party data", async () => {
    const luaClient = makeClient(luaServer);
    const sockets = [];
    try {
      const join = async () => {
        const session = await luaClient.authenticateDevice(uniqueName("dev"), true, uniqueName("u"));
        const socket = luaClient.createSocket(false, false);
        const events = record(socket);
        await socket.connect(session, false);
        sockets.push(socket);
        return { socket, events };
      };
      const [a, b] = [await join(), await join()];
      await rejectsWithError(a.socket.createParty(true, 13), 7, "thirteen is unlucky (lua)");
      const party = await a.socket.createParty(true, 2);
      await b.socket.joinParty(party.party_id);
      await b.events.next("onparty");
      await a.socket.sendPartyData(party.party_id, 13, "x");
      const data = await b.events.next("onpartydata");
      assert.equal(data.op_code, 14);
      assert.equal(text(data.data), "x");
    } finally {
      for (const s of sockets) {
        s.disconnect(false);
      }
    }
  });
});
