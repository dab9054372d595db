//! The tic-tac-toe match handler: seats two players, validates their moves against [`Game`],
//! sends each player the game as they see it, counts down to a rematch with the marks swapped,
//! and ends the match when a player leaves.

use std::collections::HashMap;

use serde::Serialize;
use tavern_runtime::matches::{
    Dispatcher, Flow, JoinDecision, MatchContext, MatchHandler, MatchInit, MatchMessage,
};
use tavern_runtime::{Presence, RuntimeError};

use crate::HANDLER_NAME;
use crate::game::{Game, Mark, Outcome};
use crate::protocol::{
    CountdownMessage, Label, MoveMessage, OpponentLeftMessage, PlayerInfo, RejectedMessage,
    ShutdownMessage, StateMessage, Status, op,
};

/// Ticks per second. Moves wait at most one tick (200 ms) for an answer.
pub const TICK_RATE: u32 = 5;
/// Seconds between the end of a game and the next one.
pub const REMATCH_SECONDS: u32 = 5;
/// Seconds the first player waits for the second before the match gives up.
pub const JOIN_TIMEOUT_SECONDS: u32 = 30;

const TICKS_PER_SECOND: i64 = TICK_RATE as i64;

/// The tic-tac-toe match handler. Register it under [`HANDLER_NAME`] with
/// `match_factory(TicTacToe::new)`:
///
/// ```
/// use std::sync::Arc;
/// use tavern_runtime::matches::{MatchContext, match_factory};
/// use tavern_tictactoe::{HANDLER_NAME, TicTacToe};
///
/// let factory = match_factory(TicTacToe::new);
/// let ctx = MatchContext {
///     match_id: "5a7e0f3c-8d1b-4c2e-9f60-3b7d2a1e4c59.tavern".into(),
///     node: "tavern".into(),
///     handler_name: HANDLER_NAME.into(),
///     env: Arc::default(),
/// };
/// let created = factory.create(ctx, &serde_json::json!({})).unwrap();
/// assert_eq!(created.label, r#"{"open":true,"game":"tictactoe"}"#);
/// assert_eq!(created.tick_rate, 5);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TicTacToe;

impl TicTacToe {
    /// A handler; it holds nothing, every match keeps its own [`MatchState`].
    pub fn new() -> TicTacToe {
        TicTacToe
    }
}

/// One match: its players, the game in progress and what happens next.
#[derive(Debug)]
pub struct MatchState {
    /// At most two, in join order.
    players: Vec<Presence>,
    /// Index into `players` of the one playing X (who moves first) in this game.
    x_player: usize,
    /// Game number, from 1.
    round: u32,
    game: Game,
    phase: Phase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Fewer than two players; the match gives up at tick `deadline`.
    Waiting { deadline: i64 },
    /// The game is on.
    Playing,
    /// The game is over; at tick `next_at` the countdown drops to `seconds - 1`.
    Rematch { seconds: u32, next_at: i64 },
}

impl MatchState {
    fn new() -> MatchState {
        MatchState {
            players: Vec::with_capacity(2),
            x_player: 0,
            round: 0,
            game: Game::new(Mark::X),
            // Tick n runs n + 1 periods after the match was created.
            phase: Phase::Waiting {
                deadline: i64::from(JOIN_TIMEOUT_SECONDS) * TICKS_PER_SECOND - 1,
            },
        }
    }

    fn seat_of(&self, presence: &Presence) -> Option<usize> {
        self.players
            .iter()
            .position(|p| p.session_id == presence.session_id)
    }

    fn mark_of(&self, seat: usize) -> Mark {
        if seat == self.x_player {
            Mark::X
        } else {
            Mark::O
        }
    }

    /// Starts the next game: the first on joining, then with the marks swapped each time.
    fn start_game(&mut self) {
        if self.round > 0 {
            self.x_player = 1 - self.x_player;
        }
        self.round += 1;
        self.game = Game::new(Mark::X);
        self.phase = Phase::Playing;
    }

    /// The state as the player in `seat` sees it.
    fn view(&self, seat: usize) -> StateMessage {
        let mine = self.mark_of(seat);
        let (status, winner, winning_line) = match self.phase {
            Phase::Waiting { .. } => (Status::Waiting, None, None),
            _ => match self.game.outcome() {
                Outcome::Turn(_) => (Status::Playing, None, None),
                Outcome::Won { winner, line } => (Status::Won, Some(winner.as_str()), Some(line)),
                Outcome::Draw => (Status::Draw, None, None),
            },
        };
        let turn = match self.phase {
            Phase::Playing => self.game.turn(),
            _ => None,
        };
        StateMessage {
            game: self.round,
            status,
            board: self
                .game
                .cells()
                .iter()
                .map(|cell| cell.map_or("", Mark::as_str))
                .collect(),
            players: self
                .players
                .iter()
                .enumerate()
                .map(|(seat, p)| PlayerInfo {
                    user_id: p.user_id.clone(),
                    username: p.username.clone(),
                    mark: self.mark_of(seat).as_str(),
                })
                .collect(),
            you: mine.as_str(),
            turn: turn.map(Mark::as_str),
            your_turn: turn == Some(mine),
            winner,
            winning_line,
        }
    }
}

fn encode(message: &impl Serialize) -> Result<Vec<u8>, RuntimeError> {
    serde_json::to_vec(message)
        .map_err(|e| RuntimeError::internal(format!("tic-tac-toe message: {e}")))
}

fn label(open: bool) -> Result<String, RuntimeError> {
    serde_json::to_string(&Label {
        open,
        game: HANDLER_NAME,
    })
    .map_err(|e| RuntimeError::internal(format!("tic-tac-toe label: {e}")))
}

fn send_to(
    dispatcher: &mut Dispatcher,
    presence: &Presence,
    op_code: i64,
    message: &impl Serialize,
) -> Result<(), RuntimeError> {
    dispatcher.broadcast(
        op_code,
        encode(message)?,
        Some(std::slice::from_ref(presence)),
        None,
    );
    Ok(())
}

/// Sends every player the state as they see it.
fn send_state(dispatcher: &mut Dispatcher, state: &MatchState) -> Result<(), RuntimeError> {
    for (seat, presence) in state.players.iter().enumerate() {
        send_to(dispatcher, presence, op::STATE, &state.view(seat))?;
    }
    Ok(())
}

fn send_countdown(
    dispatcher: &mut Dispatcher,
    state: &MatchState,
    seconds: u32,
) -> Result<(), RuntimeError> {
    for (seat, presence) in state.players.iter().enumerate() {
        // Marks swap for the next game.
        let next_mark = state.mark_of(seat).other().as_str();
        send_to(
            dispatcher,
            presence,
            op::COUNTDOWN,
            &CountdownMessage { seconds, next_mark },
        )?;
    }
    Ok(())
}

/// Tells everyone still here that their opponent is gone; the caller ends the match.
fn send_opponent_left(
    dispatcher: &mut Dispatcher,
    state: &MatchState,
    reason: &'static str,
) -> Result<(), RuntimeError> {
    for presence in &state.players {
        send_to(
            dispatcher,
            presence,
            op::OPPONENT_LEFT,
            &OpponentLeftMessage { reason },
        )?;
    }
    Ok(())
}

fn reject(
    dispatcher: &mut Dispatcher,
    presence: &Presence,
    reason: &'static str,
    message: impl Into<String>,
) -> Result<(), RuntimeError> {
    send_to(
        dispatcher,
        presence,
        op::REJECTED,
        &RejectedMessage {
            reason,
            message: message.into(),
        },
    )
}

/// Applies one message from a player; a refusal goes back to that player only.
fn handle_message(
    dispatcher: &mut Dispatcher,
    tick: i64,
    state: &mut MatchState,
    message: &MatchMessage,
) -> Result<(), RuntimeError> {
    let sender = &message.sender;
    let Some(seat) = state.seat_of(sender) else {
        return Ok(());
    };
    if message.op_code != op::MOVE {
        return reject(
            dispatcher,
            sender,
            "unknown_op_code",
            format!("Op code {} means nothing here.", message.op_code),
        );
    }
    let Ok(MoveMessage { cell }) = serde_json::from_slice(&message.data) else {
        return reject(
            dispatcher,
            sender,
            "bad_message",
            r#"A move is {"cell": 0..8}."#,
        );
    };
    match state.phase {
        Phase::Waiting { .. } => reject(
            dispatcher,
            sender,
            "waiting_for_opponent",
            "Your opponent has not joined yet.",
        ),
        Phase::Playing | Phase::Rematch { .. } => {
            match state.game.play(state.mark_of(seat), cell) {
                Err(e) => reject(dispatcher, sender, e.code(), e.to_string()),
                Ok(Outcome::Turn(_)) => send_state(dispatcher, state),
                Ok(Outcome::Won { .. } | Outcome::Draw) => {
                    state.phase = Phase::Rematch {
                        seconds: REMATCH_SECONDS,
                        next_at: tick + TICKS_PER_SECOND,
                    };
                    send_state(dispatcher, state)?;
                    send_countdown(dispatcher, state, REMATCH_SECONDS)
                }
            }
        }
    }
}

impl MatchHandler for TicTacToe {
    type State = MatchState;

    fn init(
        &self,
        _ctx: &MatchContext,
        _params: &serde_json::Value,
    ) -> Result<MatchInit<MatchState>, RuntimeError> {
        Ok(MatchInit {
            state: MatchState::new(),
            tick_rate: TICK_RATE,
            label: label(true)?,
        })
    }

    /// Two seats, one per user: a third player is refused, and so is a second session of a user
    /// already seated (two tabs of one user cannot play each other).
    fn join_attempt(
        &self,
        _ctx: &MatchContext,
        _dispatcher: &mut Dispatcher,
        _tick: i64,
        state: &mut MatchState,
        presence: &Presence,
        _metadata: &HashMap<String, String>,
    ) -> Result<JoinDecision, RuntimeError> {
        if state.players.iter().any(|p| p.user_id == presence.user_id) {
            return Ok(JoinDecision::Reject(
                "You are already playing in this match.".into(),
            ));
        }
        if state.players.len() >= 2 {
            return Ok(JoinDecision::Reject("This match is full.".into()));
        }
        Ok(JoinDecision::Accept)
    }

    fn join(
        &self,
        _ctx: &MatchContext,
        dispatcher: &mut Dispatcher,
        _tick: i64,
        state: &mut MatchState,
        joins: &[Presence],
    ) -> Result<Flow, RuntimeError> {
        // `join_attempt` has already turned away anyone beyond the second player.
        for presence in joins {
            if state.players.len() < 2 && state.seat_of(presence).is_none() {
                state.players.push(presence.clone());
            }
        }
        if state.players.len() == 2 && matches!(state.phase, Phase::Waiting { .. }) {
            dispatcher.label_update(label(false)?)?;
            state.start_game();
        }
        send_state(dispatcher, state)?;
        Ok(Flow::Continue)
    }

    /// A player leaving ends the match: the other is told first.
    fn leave(
        &self,
        _ctx: &MatchContext,
        dispatcher: &mut Dispatcher,
        _tick: i64,
        state: &mut MatchState,
        leaves: &[Presence],
    ) -> Result<Flow, RuntimeError> {
        let before = state.players.len();
        state
            .players
            .retain(|p| !leaves.iter().any(|l| l.session_id == p.session_id));
        if state.players.len() == before {
            return Ok(Flow::Continue);
        }
        send_opponent_left(dispatcher, state, "left")?;
        Ok(Flow::End)
    }

    fn tick(
        &self,
        _ctx: &MatchContext,
        dispatcher: &mut Dispatcher,
        tick: i64,
        state: &mut MatchState,
        messages: Vec<MatchMessage>,
    ) -> Result<Flow, RuntimeError> {
        for message in &messages {
            handle_message(dispatcher, tick, state, message)?;
        }
        match state.phase {
            Phase::Waiting { deadline } if tick >= deadline => {
                send_opponent_left(dispatcher, state, "never_joined")?;
                return Ok(Flow::End);
            }
            Phase::Rematch { seconds, next_at } if tick >= next_at => {
                let seconds = seconds - 1;
                if seconds == 0 {
                    state.start_game();
                    send_state(dispatcher, state)?;
                } else {
                    state.phase = Phase::Rematch {
                        seconds,
                        next_at: next_at + TICKS_PER_SECOND,
                    };
                    send_countdown(dispatcher, state, seconds)?;
                }
            }
            _ => {}
        }
        Ok(Flow::Continue)
    }

    fn terminate(
        &self,
        _ctx: &MatchContext,
        dispatcher: &mut Dispatcher,
        _tick: i64,
        state: &mut MatchState,
        grace_seconds: u32,
    ) -> Result<Flow, RuntimeError> {
        for presence in &state.players {
            send_to(
                dispatcher,
                presence,
                op::SHUTDOWN,
                &ShutdownMessage { grace_seconds },
            )?;
        }
        Ok(Flow::End)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use serde_json::{Value, json};
    use tavern_runtime::matches::{Broadcast, MatchOutput};

    use super::*;

    /// Records what the handler sends.
    #[derive(Default)]
    struct Recorder {
        broadcasts: Mutex<Vec<Broadcast>>,
        labels: Mutex<Vec<String>>,
    }

    impl MatchOutput for Recorder {
        fn broadcast(&self, message: Broadcast) {
            self.broadcasts.lock().unwrap().push(message);
        }
        fn kick(&self, presences: Vec<Presence>) {
            panic!("tic-tac-toe kicks nobody, yet kicked {presences:?}");
        }
        fn label_update(&self, label: String) {
            self.labels.lock().unwrap().push(label);
        }
    }

    fn player(name: &str) -> Presence {
        Presence {
            user_id: format!("user-{name}"),
            session_id: format!("session-{name}"),
            username: name.to_owned(),
            node: "tavern".to_owned(),
        }
    }

    /// One match driven the way the engine drives it: callbacks in order, a tick counter, and
    /// the messages sent in between handed to the next tick.
    struct Match {
        handler: TicTacToe,
        ctx: MatchContext,
        state: MatchState,
        output: Recorder,
        tick: i64,
        inbox: Vec<MatchMessage>,
        ended: bool,
    }

    impl Match {
        fn new() -> Match {
            let handler = TicTacToe::new();
            let ctx = MatchContext {
                match_id: "0b9c7ad4-49bf-4a0e-8d29-5b0a8d1f3c11.tavern".to_owned(),
                node: "tavern".to_owned(),
                handler_name: HANDLER_NAME.to_owned(),
                env: Arc::new(BTreeMap::new()),
            };
            let init = handler.init(&ctx, &json!({})).unwrap();
            assert_eq!(init.tick_rate, TICK_RATE);
            assert_eq!(init.label, r#"{"open":true,"game":"tictactoe"}"#);
            Match {
                handler,
                ctx,
                state: init.state,
                output: Recorder::default(),
                tick: 0,
                inbox: Vec::new(),
                ended: false,
            }
        }

        fn flow(&mut self, flow: Flow) {
            assert!(!self.ended, "callback after the match ended");
            self.ended = flow == Flow::End;
        }

        fn attempt(&mut self, p: &Presence) -> JoinDecision {
            let mut d = Dispatcher::new(&self.output, 16);
            let decision = self
                .handler
                .join_attempt(
                    &self.ctx,
                    &mut d,
                    self.tick,
                    &mut self.state,
                    p,
                    &HashMap::new(),
                )
                .unwrap();
            d.flush_deferred();
            decision
        }

        /// A join attempt that must succeed, followed by the join.
        fn join(&mut self, p: &Presence) {
            assert_eq!(self.attempt(p), JoinDecision::Accept);
            let mut d = Dispatcher::new(&self.output, 16);
            let flow = self
                .handler
                .join(
                    &self.ctx,
                    &mut d,
                    self.tick,
                    &mut self.state,
                    std::slice::from_ref(p),
                )
                .unwrap();
            d.flush_deferred();
            self.flow(flow);
        }

        fn leave(&mut self, p: &Presence) {
            let mut d = Dispatcher::new(&self.output, 16);
            let flow = self
                .handler
                .leave(
                    &self.ctx,
                    &mut d,
                    self.tick,
                    &mut self.state,
                    std::slice::from_ref(p),
                )
                .unwrap();
            d.flush_deferred();
            self.flow(flow);
        }

        fn send(&mut self, p: &Presence, op_code: i64, data: &[u8]) {
            self.inbox.push(MatchMessage {
                sender: p.clone(),
                op_code,
                data: data.to_vec(),
                reliable: true,
                receive_time_ms: 0,
            });
        }

        fn send_move(&mut self, p: &Presence, cell: i64) {
            self.send(p, op::MOVE, json!({ "cell": cell }).to_string().as_bytes());
        }

        fn tick(&mut self) {
            let messages = std::mem::take(&mut self.inbox);
            let mut d = Dispatcher::new(&self.output, 16);
            let flow = self
                .handler
                .tick(&self.ctx, &mut d, self.tick, &mut self.state, messages)
                .unwrap();
            d.flush_deferred();
            self.flow(flow);
            self.tick += 1;
        }

        fn ticks(&mut self, n: i64) {
            for _ in 0..n {
                self.tick();
            }
        }

        fn seconds(&mut self, n: u32) {
            self.ticks(i64::from(n) * TICKS_PER_SECOND);
        }

        /// Everything sent so far (and forgets it): (recipient's username, op code, payload).
        /// Every message of this handler goes to exactly one player, from the server.
        fn sent(&mut self) -> Vec<(String, i64, Value)> {
            std::mem::take(&mut *self.output.broadcasts.lock().unwrap())
                .into_iter()
                .map(|b| {
                    let to = b.presences.expect("addressed to one player");
                    assert_eq!(to.len(), 1);
                    assert_eq!(b.sender, None);
                    let payload = serde_json::from_slice(&b.data).unwrap();
                    (to[0].username.clone(), b.op_code, payload)
                })
                .collect()
        }

        /// The payloads with one op code sent to one player (and forgets everything sent).
        fn sent_to(&mut self, name: &str, op_code: i64) -> Vec<Value> {
            self.sent()
                .into_iter()
                .filter(|(to, op, _)| to == name && *op == op_code)
                .map(|(_, _, payload)| payload)
                .collect()
        }

        /// Plays moves in order, one tick each, each by whoever's turn it is.
        fn play(&mut self, cells: &[i64]) {
            for &cell in cells {
                let turn = self.state.game.turn().expect("game in progress");
                let seat = if self.state.mark_of(0) == turn { 0 } else { 1 };
                let p = self.state.players[seat].clone();
                self.send_move(&p, cell);
                self.tick();
            }
        }
    }

    fn board(cells: &str) -> Value {
        json!(
            cells
                .chars()
                .map(|c| if c == '.' {
                    String::new()
                } else {
                    c.to_string()
                })
                .collect::<Vec<_>>()
        )
    }

    /// A match with alice (X, moves first) and bob (O), sent messages forgotten.
    fn started() -> (Match, Presence, Presence) {
        let (alice, bob) = (player("alice"), player("bob"));
        let mut m = Match::new();
        m.join(&alice);
        m.join(&bob);
        m.sent();
        (m, alice, bob)
    }

    #[test]
    fn the_first_player_waits_and_the_second_starts_the_game() {
        let (alice, bob) = (player("alice"), player("bob"));
        let mut m = Match::new();
        m.join(&alice);
        let waiting = m.sent();
        assert_eq!(waiting.len(), 1);
        let (to, op_code, state) = &waiting[0];
        assert_eq!((to.as_str(), *op_code), ("alice", op::STATE));
        assert_eq!(state["status"], "waiting");
        assert_eq!(state["turn"], Value::Null);
        assert_eq!(state["your_turn"], false);
        assert!(m.output.labels.lock().unwrap().is_empty());

        m.join(&bob);
        assert_eq!(
            *m.output.labels.lock().unwrap(),
            [r#"{"open":false,"game":"tictactoe"}"#]
        );
        let sent = m.sent();
        assert_eq!(sent.len(), 2);
        let state_of = |name: &str| {
            sent.iter()
                .find(|(to, op_code, _)| to == name && *op_code == op::STATE)
                .map(|(_, _, state)| state.clone())
                .unwrap()
        };
        let (a, b) = (state_of("alice"), state_of("bob"));
        assert_eq!(
            a,
            json!({
                "game": 1,
                "status": "playing",
                "board": board("........."),
                "players": [
                    {"user_id": "user-alice", "username": "alice", "mark": "X"},
                    {"user_id": "user-bob", "username": "bob", "mark": "O"},
                ],
                "you": "X",
                "turn": "X",
                "your_turn": true,
                "winner": null,
                "winning_line": null,
            })
        );
        assert_eq!(b["you"], "O");
        assert_eq!(b["your_turn"], false);
        assert_eq!(b["players"], a["players"]);
    }

    #[test]
    fn a_third_player_and_a_second_session_of_a_player_are_turned_away() {
        let (mut m, alice, _bob) = started();
        assert_eq!(
            m.attempt(&player("carol")),
            JoinDecision::Reject("This match is full.".into())
        );
        let alice_again = Presence {
            session_id: "session-alice-2".into(),
            ..alice
        };
        assert_eq!(
            m.attempt(&alice_again),
            JoinDecision::Reject("You are already playing in this match.".into())
        );
        // Even while the second seat is free.
        let mut m = Match::new();
        m.join(&player("dave"));
        let dave_again = Presence {
            session_id: "session-dave-2".into(),
            ..player("dave")
        };
        assert!(matches!(m.attempt(&dave_again), JoinDecision::Reject(_)));
    }

    #[test]
    fn alternating_moves_to_a_win() {
        let (mut m, alice, _bob) = started();
        // X: 0, 1, 2 (top row); O: 4, 8.
        m.send_move(&alice, 0);
        m.tick();
        let sent = m.sent();
        assert_eq!(sent.len(), 2, "one state for each player");
        let bob_view = &sent.iter().find(|(to, ..)| to == "bob").unwrap().2;
        assert_eq!(bob_view["board"], board("X........"));
        assert_eq!(bob_view["turn"], "O");
        assert_eq!(bob_view["your_turn"], true);

        m.play(&[4, 1, 8]);
        m.sent();
        m.send_move(&alice, 2);
        m.tick();
        let sent = m.sent();
        let alice_state = &sent
            .iter()
            .find(|(to, op_code, _)| to == "alice" && *op_code == op::STATE)
            .unwrap()
            .2;
        assert_eq!(alice_state["status"], "won");
        assert_eq!(alice_state["winner"], "X");
        assert_eq!(alice_state["winning_line"], json!([0, 1, 2]));
        assert_eq!(alice_state["board"], board("XXX.O...O"));
        assert_eq!(alice_state["turn"], Value::Null);
        assert_eq!(alice_state["your_turn"], false);
        let countdowns: Vec<_> = sent
            .iter()
            .filter(|(_, op_code, _)| *op_code == op::COUNTDOWN)
            .collect();
        assert_eq!(countdowns.len(), 2);
        for (to, _, countdown) in countdowns {
            let next = if to == "alice" { "O" } else { "X" };
            assert_eq!(
                *countdown,
                json!({"seconds": REMATCH_SECONDS, "next_mark": next})
            );
        }
    }

    #[test]
    fn the_rematch_counts_down_each_second_then_swaps_the_marks() {
        let (mut m, alice, bob) = started();
        m.play(&[0, 4, 1, 8, 2]);
        m.sent();
        let mut seconds_seen = Vec::new();
        for _ in 1..REMATCH_SECONDS {
            // Nothing happens within a second...
            m.ticks(TICKS_PER_SECOND - 1);
            assert!(m.sent().is_empty());
            // ...then the countdown drops by one.
            m.tick();
            let countdown = m.sent_to("bob", op::COUNTDOWN);
            assert_eq!(countdown.len(), 1);
            seconds_seen.push(countdown[0]["seconds"].as_u64().unwrap());
        }
        assert_eq!(seconds_seen, [4, 3, 2, 1]);
        m.seconds(1);
        let sent = m.sent();
        assert!(sent.iter().all(|(_, op_code, _)| *op_code == op::STATE));
        let bob_view = &sent.iter().find(|(to, ..)| to == "bob").unwrap().2;
        assert_eq!(bob_view["game"], 2);
        assert_eq!(bob_view["status"], "playing");
        assert_eq!(bob_view["board"], board("........."));
        assert_eq!(bob_view["you"], "X");
        assert_eq!(bob_view["your_turn"], true);
        assert_eq!(bob_view["players"][0]["mark"], "O", "alice is O now");

        // Bob opens the second game; alice may not.
        m.send_move(&alice, 4);
        m.tick();
        assert_eq!(
            m.sent_to("alice", op::REJECTED)[0]["reason"],
            "not_your_turn"
        );
        m.send_move(&bob, 4);
        m.tick();
        assert_eq!(
            m.sent_to("alice", op::STATE)[0]["board"],
            board("....X....")
        );

        // And in the third game the marks swap back.
        m.play(&[0, 3, 1, 6, 2]);
        m.sent();
        m.seconds(REMATCH_SECONDS);
        let alice_view = &m.sent_to("alice", op::STATE)[0];
        assert_eq!(
            (alice_view["game"].clone(), alice_view["you"].clone()),
            (json!(3), json!("X"))
        );
    }

    #[test]
    fn a_full_board_without_a_line_is_a_draw() {
        let (mut m, ..) = started();
        // X O X / X O O / O X X
        m.play(&[0, 1, 2, 4, 3, 5, 7, 6, 8]);
        let sent = m.sent();
        let countdowns = sent
            .iter()
            .filter(|(_, op_code, _)| *op_code == op::COUNTDOWN);
        assert_eq!(
            countdowns.count(),
            2,
            "the countdown starts after a draw too"
        );
        let final_state = &sent
            .iter()
            .rev()
            .find(|(to, op_code, _)| to == "bob" && *op_code == op::STATE)
            .unwrap()
            .2;
        assert_eq!(final_state["status"], "draw");
        assert_eq!(final_state["board"], board("XOXXOOOXX"));
        assert_eq!(final_state["winner"], Value::Null);
        assert_eq!(final_state["winning_line"], Value::Null);
        m.seconds(REMATCH_SECONDS);
        assert_eq!(m.sent_to("alice", op::STATE)[0]["status"], "playing");
    }

    #[test]
    fn invalid_moves_are_answered_to_the_sender_only_and_change_nothing() {
        let (mut m, alice, bob) = started();
        let cases: [(&Presence, &[u8], &str); 6] = [
            (&bob, br#"{"cell": 4}"#, "not_your_turn"),
            (&alice, br#"{"cell": 9}"#, "out_of_bounds"),
            (&alice, br#"{"cell": -1}"#, "out_of_bounds"),
            (&alice, b"center please", "bad_message"),
            (&alice, br#"{"cell": "4"}"#, "bad_message"),
            (&alice, br#"{"row": 1}"#, "bad_message"),
        ];
        for (p, data, reason) in cases {
            m.send(p, op::MOVE, data);
            m.tick();
            let sent = m.sent();
            assert_eq!(sent.len(), 1, "{reason}: {sent:?}");
            let (to, op_code, payload) = &sent[0];
            assert_eq!((to, *op_code), (&p.username, op::REJECTED));
            assert_eq!(payload["reason"], reason);
            assert!(payload["message"].as_str().is_some_and(|s| !s.is_empty()));
        }
        m.send(&alice, 42, b"{}");
        m.tick();
        assert_eq!(
            m.sent_to("alice", op::REJECTED)[0]["reason"],
            "unknown_op_code"
        );

        m.play(&[4]);
        m.sent();
        m.send_move(&bob, 4);
        m.tick();
        let rejected = m.sent_to("bob", op::REJECTED);
        assert_eq!(rejected[0]["reason"], "occupied");
        assert_eq!(rejected[0]["message"], "That cell is taken.");
        assert_eq!(m.state.game.cells()[4], Some(Mark::X));
    }

    #[test]
    fn moves_after_the_game_is_over_are_refused_during_the_countdown() {
        let (mut m, alice, bob) = started();
        m.play(&[0, 4, 1, 8, 2]);
        m.sent();
        m.send_move(&bob, 5);
        m.send_move(&alice, 6);
        m.tick();
        assert_eq!(m.sent_to("bob", op::REJECTED)[0]["reason"], "game_over");
        m.send_move(&alice, 6);
        m.tick();
        assert_eq!(m.sent_to("alice", op::REJECTED)[0]["reason"], "game_over");
        assert_eq!(m.state.game.cells()[5], None);
    }

    #[test]
    fn moving_before_the_opponent_arrives_is_refused() {
        let alice = player("alice");
        let mut m = Match::new();
        m.join(&alice);
        m.sent();
        m.send_move(&alice, 4);
        m.tick();
        assert_eq!(
            m.sent_to("alice", op::REJECTED)[0]["reason"],
            "waiting_for_opponent"
        );
    }

    #[test]
    fn a_leave_tells_the_other_player_and_ends_the_match() {
        let (mut m, _alice, bob) = started();
        m.play(&[4]);
        m.sent();
        m.leave(&bob);
        assert!(m.ended);
        let sent = m.sent();
        assert_eq!(
            sent,
            [(
                "alice".to_owned(),
                op::OPPONENT_LEFT,
                json!({"reason": "left"})
            )]
        );
    }

    #[test]
    fn a_leave_of_someone_not_seated_changes_nothing() {
        let (mut m, ..) = started();
        m.leave(&player("mallory"));
        assert!(!m.ended);
        assert!(m.sent().is_empty());
    }

    #[test]
    fn a_lone_player_is_told_when_the_opponent_never_comes() {
        let alice = player("alice");
        let mut m = Match::new();
        m.join(&alice);
        m.sent();
        m.seconds(JOIN_TIMEOUT_SECONDS - 1);
        assert!(!m.ended);
        m.seconds(1);
        assert!(m.ended);
        assert_eq!(
            m.sent(),
            [(
                "alice".to_owned(),
                op::OPPONENT_LEFT,
                json!({"reason": "never_joined"})
            )]
        );
    }

    #[test]
    fn shutdown_tells_both_players_and_ends_the_match() {
        let (mut m, ..) = started();
        let mut d = Dispatcher::new(&m.output, 16);
        let flow = m
            .handler
            .terminate(&m.ctx, &mut d, m.tick, &mut m.state, 7)
            .unwrap();
        assert_eq!(flow, Flow::End);
        let sent = m.sent();
        assert_eq!(sent.len(), 2);
        assert!(
            sent.iter()
                .all(|(_, op_code, payload)| *op_code == op::SHUTDOWN
                    && *payload == json!({"grace_seconds": 7}))
        );
    }
}
