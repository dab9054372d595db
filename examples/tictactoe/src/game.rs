//! The rules of tic-tac-toe, with no I/O: a 3x3 board, whose turn it is, move validation, and
//! the result (a win with its line, or a draw). The match handler drives one [`Game`] per round.

use std::fmt;

/// Cells on the board, numbered 0..=8 row by row from the top left.
pub const CELLS: usize = 9;

/// The eight lines that win: three rows, three columns, two diagonals.
const LINES: [[usize; 3]; 8] = [
    [0, 1, 2],
    [3, 4, 5],
    [6, 7, 8],
    [0, 3, 6],
    [1, 4, 7],
    [2, 5, 8],
    [0, 4, 8],
    [2, 4, 6],
];

/// A player's mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mark {
    X,
    O,
}

impl Mark {
    /// The opponent's mark.
    pub fn other(self) -> Mark {
        match self {
            Mark::X => Mark::O,
            Mark::O => Mark::X,
        }
    }

    /// `"X"` or `"O"`, as clients see it.
    pub fn as_str(self) -> &'static str {
        match self {
            Mark::X => "X",
            Mark::O => "O",
        }
    }
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a game stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Moves remain; the mark is the one to move next.
    Turn(Mark),
    /// Three in a line: the winner and the cells of the line, in ascending order.
    Won { winner: Mark, line: [usize; 3] },
    /// The board is full and nobody won.
    Draw,
}

/// Why a move was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveError {
    /// The game has been won or drawn.
    GameOver,
    /// The other mark is to move.
    NotYourTurn,
    /// The cell number is not 0..=8.
    OutOfBounds,
    /// The cell already holds a mark.
    Occupied,
}

impl MoveError {
    /// A stable, machine-readable name, sent to clients.
    pub fn code(self) -> &'static str {
        match self {
            MoveError::GameOver => "game_over",
            MoveError::NotYourTurn => "not_your_turn",
            MoveError::OutOfBounds => "out_of_bounds",
            MoveError::Occupied => "occupied",
        }
    }
}

impl fmt::Display for MoveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MoveError::GameOver => "The game is over.",
            MoveError::NotYourTurn => "It is not your turn.",
            MoveError::OutOfBounds => "There is no such cell.",
            MoveError::Occupied => "That cell is taken.",
        })
    }
}

/// One round of tic-tac-toe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Game {
    cells: [Option<Mark>; CELLS],
    outcome: Outcome,
}

impl Game {
    /// An empty board with `first` to move.
    pub fn new(first: Mark) -> Game {
        Game {
            cells: [None; CELLS],
            outcome: Outcome::Turn(first),
        }
    }

    /// The cells, row by row.
    pub fn cells(&self) -> &[Option<Mark>; CELLS] {
        &self.cells
    }

    /// Whose turn it is, or the result once the game is over.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// The mark to move next; `None` once the game is over.
    pub fn turn(&self) -> Option<Mark> {
        match self.outcome {
            Outcome::Turn(mark) => Some(mark),
            Outcome::Won { .. } | Outcome::Draw => None,
        }
    }

    /// Places `mark` on `cell` (any integer: clients send what they like) and returns the new
    /// outcome. A refused move leaves the game unchanged.
    pub fn play(&mut self, mark: Mark, cell: i64) -> Result<Outcome, MoveError> {
        let to_move = self.turn().ok_or(MoveError::GameOver)?;
        if mark != to_move {
            return Err(MoveError::NotYourTurn);
        }
        let index = usize::try_from(cell)
            .ok()
            .filter(|&i| i < CELLS)
            .ok_or(MoveError::OutOfBounds)?;
        if self.cells[index].is_some() {
            return Err(MoveError::Occupied);
        }
        self.cells[index] = Some(mark);
        self.outcome = self.judge(mark);
        Ok(self.outcome)
    }

    /// The outcome after `last` moved: only `last` can have completed a line.
    fn judge(&self, last: Mark) -> Outcome {
        let winning = LINES
            .iter()
            .find(|line| line.iter().all(|&i| self.cells[i] == Some(last)));
        match winning {
            Some(&line) => Outcome::Won { winner: last, line },
            None if self.cells.iter().all(Option::is_some) => Outcome::Draw,
            None => Outcome::Turn(last.other()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plays `cells` in order, alternating from `first`; panics on a refused move.
    fn played(first: Mark, cells: &[i64]) -> Game {
        let mut game = Game::new(first);
        let mut mark = first;
        for &cell in cells {
            game.play(mark, cell).unwrap();
            mark = mark.other();
        }
        game
    }

    #[test]
    fn a_new_game_is_empty_with_the_first_mark_to_move() {
        let game = Game::new(Mark::O);
        assert!(game.cells().iter().all(Option::is_none));
        assert_eq!(game.outcome(), Outcome::Turn(Mark::O));
        assert_eq!(game.turn(), Some(Mark::O));
    }

    #[test]
    fn turns_alternate() {
        let mut game = Game::new(Mark::X);
        assert_eq!(game.play(Mark::X, 4), Ok(Outcome::Turn(Mark::O)));
        assert_eq!(game.play(Mark::O, 0), Ok(Outcome::Turn(Mark::X)));
        assert_eq!(game.cells()[4], Some(Mark::X));
        assert_eq!(game.cells()[0], Some(Mark::O));
    }

    #[test]
    fn every_row_column_and_diagonal_wins() {
        // X completes each line on its third move; O's two moves in between make no line.
        let games: [([i64; 5], [usize; 3]); 8] = [
            ([0, 3, 1, 4, 2], [0, 1, 2]),
            ([3, 0, 4, 1, 5], [3, 4, 5]),
            ([6, 0, 7, 1, 8], [6, 7, 8]),
            ([0, 1, 3, 2, 6], [0, 3, 6]),
            ([1, 0, 4, 2, 7], [1, 4, 7]),
            ([2, 0, 5, 1, 8], [2, 5, 8]),
            ([0, 1, 4, 2, 8], [0, 4, 8]),
            ([2, 0, 4, 1, 6], [2, 4, 6]),
        ];
        for (moves, line) in games {
            let game = played(Mark::X, &moves);
            assert_eq!(
                game.outcome(),
                Outcome::Won {
                    winner: Mark::X,
                    line
                },
                "moves {moves:?}"
            );
            assert_eq!(game.turn(), None);
        }
    }

    #[test]
    fn o_can_win_too() {
        // X: 0, 1, 8; O: 2, 4, 6 (the anti-diagonal).
        let game = played(Mark::X, &[0, 2, 1, 4, 8, 6]);
        assert_eq!(
            game.outcome(),
            Outcome::Won {
                winner: Mark::O,
                line: [2, 4, 6]
            }
        );
    }

    #[test]
    fn a_full_board_without_a_line_is_a_draw() {
        // X O X / X O O / O X X
        let game = played(Mark::X, &[0, 1, 2, 4, 3, 5, 7, 6, 8]);
        assert_eq!(game.outcome(), Outcome::Draw);
        assert_eq!(game.turn(), None);
    }

    #[test]
    fn a_win_on_the_last_cell_is_a_win_not_a_draw() {
        // X O X / O X O / O X X: X's ninth move completes the main diagonal.
        let game = played(Mark::X, &[0, 1, 2, 3, 4, 5, 7, 6, 8]);
        assert_eq!(
            game.outcome(),
            Outcome::Won {
                winner: Mark::X,
                line: [0, 4, 8]
            }
        );
    }

    #[test]
    fn moving_out_of_turn_is_refused() {
        let mut game = Game::new(Mark::X);
        assert_eq!(game.play(Mark::O, 4), Err(MoveError::NotYourTurn));
        game.play(Mark::X, 4).unwrap();
        assert_eq!(game.play(Mark::X, 0), Err(MoveError::NotYourTurn));
    }

    #[test]
    fn cells_outside_the_board_are_refused() {
        let mut game = Game::new(Mark::X);
        for cell in [-1, 9, 100, i64::MIN, i64::MAX] {
            assert_eq!(game.play(Mark::X, cell), Err(MoveError::OutOfBounds));
        }
        assert_eq!(game, Game::new(Mark::X));
    }

    #[test]
    fn occupied_cells_are_refused() {
        let mut game = played(Mark::X, &[4]);
        let before = game.clone();
        assert_eq!(game.play(Mark::O, 4), Err(MoveError::Occupied));
        assert_eq!(game, before);
    }

    #[test]
    fn nothing_is_accepted_after_the_game_is_over() {
        let mut won = played(Mark::X, &[0, 3, 1, 4, 2]);
        assert_eq!(won.play(Mark::O, 8), Err(MoveError::GameOver));
        assert_eq!(won.play(Mark::X, 8), Err(MoveError::GameOver));
        let mut drawn = played(Mark::X, &[0, 1, 2, 4, 3, 5, 7, 6, 8]);
        assert_eq!(drawn.play(Mark::O, 0), Err(MoveError::GameOver));
    }

    #[test]
    fn errors_have_codes_and_messages() {
        assert_eq!(MoveError::Occupied.code(), "occupied");
        assert_eq!(MoveError::NotYourTurn.to_string(), "It is not your turn.");
        assert_eq!(Mark::O.to_string(), "O");
        assert_eq!(Mark::X.other(), Mark::O);
    }
}
