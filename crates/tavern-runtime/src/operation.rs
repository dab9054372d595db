//! The REST operations that before and after hooks can be registered for, each naming its
//! request and response types.
//!
//! Pass the operation's unit value to
//! [`Initializer::register_before`](crate::Initializer::register_before) or
//! [`Initializer::register_after`](crate::Initializer::register_after); the hook's request and
//! response parameters then have the operation's types.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api;

mod sealed {
    pub trait Sealed {}
}

/// A REST operation with hooks. Implemented by the unit structs of this module only.
pub trait Operation: sealed::Sealed + Copy + Default + Send + Sync + 'static {
    /// What the client sent, as a before hook sees and may rewrite it.
    type Request: Clone + std::fmt::Debug + Serialize + DeserializeOwned + Send + Sync + 'static;
    /// What the server answers, as an after hook sees it.
    type Response: Clone + std::fmt::Debug + Serialize + Send + Sync + 'static;
    /// The operation's name as Nakama spells it (`AuthenticateDevice`), for logs and for
    /// runtimes that register hooks by name.
    const NAME: &'static str;
}

/// Something done once per operation type, for runtimes that register hooks by name
/// (Lua's `register_req_before(fn, "AddFriends")`): see [`visit`].
pub trait OperationVisitor {
    /// What each visit returns.
    type Output;
    /// Called with the operation whose name was asked for.
    fn visit<Op: Operation>(self, operation: Op) -> Self::Output;
}

macro_rules! operations {
    ($($(#[$doc:meta])* $name:ident: $request:ty => $response:ty;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
            pub struct $name;

            impl sealed::Sealed for $name {}

            impl Operation for $name {
                type Request = $request;
                type Response = $response;
                const NAME: &'static str = stringify!($name);
            }
        )*

        /// Every operation's name, as Nakama spells it.
        pub const NAMES: &[&str] = &[$(stringify!($name),)*];

        /// Calls `visitor` with the operation called `name`, compared without case as Nakama
        /// compares hook names; `None` for a name that is not an operation.
        pub fn visit<V: OperationVisitor>(name: &str, visitor: V) -> Option<V::Output> {
            $(
                if name.eq_ignore_ascii_case(stringify!($name)) {
                    return Some(visitor.visit($name));
                }
            )*
            None
        }
    };
}

operations! {
    /// `POST /v2/account/authenticate/apple`.
    AuthenticateApple: api::AuthenticateAppleRequest => api::Session;
    /// `POST /v2/account/authenticate/custom`.
    AuthenticateCustom: api::AuthenticateCustomRequest => api::Session;
    /// `POST /v2/account/authenticate/device`.
    AuthenticateDevice: api::AuthenticateDeviceRequest => api::Session;
    /// `POST /v2/account/authenticate/email`.
    AuthenticateEmail: api::AuthenticateEmailRequest => api::Session;
    /// `POST /v2/account/authenticate/facebook`.
    AuthenticateFacebook: api::AuthenticateFacebookRequest => api::Session;
    /// `POST /v2/account/authenticate/facebookinstantgame`.
    AuthenticateFacebookInstantGame: api::AuthenticateFacebookInstantGameRequest => api::Session;
    /// `POST /v2/account/authenticate/gamecenter`.
    AuthenticateGameCenter: api::AuthenticateGameCenterRequest => api::Session;
    /// `POST /v2/account/authenticate/google`.
    AuthenticateGoogle: api::AuthenticateGoogleRequest => api::Session;
    /// `POST /v2/account/authenticate/steam`.
    AuthenticateSteam: api::AuthenticateSteamRequest => api::Session;
    /// `POST /v2/account/session/refresh`.
    SessionRefresh: api::SessionRefreshRequest => api::Session;
    /// `POST /v2/session/logout`.
    SessionLogout: api::SessionLogoutRequest => ();

    /// `GET /v2/account`: no request body, the caller's account as response.
    GetAccount: () => api::Account;
    /// `PUT /v2/account`.
    UpdateAccount: api::UpdateAccountRequest => ();
    /// `DELETE /v2/account`.
    DeleteAccount: () => ();
    /// `GET /v2/user`.
    GetUsers: api::GetUsersRequest => api::Users;

    /// `POST /v2/account/link/apple`.
    LinkApple: api::AccountApple => ();
    /// `POST /v2/account/link/custom`.
    LinkCustom: api::AccountCustom => ();
    /// `POST /v2/account/link/device`.
    LinkDevice: api::AccountDevice => ();
    /// `POST /v2/account/link/email`.
    LinkEmail: api::AccountEmail => ();
    /// `POST /v2/account/link/facebook`.
    LinkFacebook: api::LinkFacebookRequest => ();
    /// `POST /v2/account/link/facebookinstantgame`.
    LinkFacebookInstantGame: api::AccountFacebookInstantGame => ();
    /// `POST /v2/account/link/gamecenter`.
    LinkGameCenter: api::AccountGameCenter => ();
    /// `POST /v2/account/link/google`.
    LinkGoogle: api::AccountGoogle => ();
    /// `POST /v2/account/link/steam`.
    LinkSteam: api::LinkSteamRequest => ();
    /// `POST /v2/account/unlink/apple`.
    UnlinkApple: api::AccountApple => ();
    /// `POST /v2/account/unlink/custom`.
    UnlinkCustom: api::AccountCustom => ();
    /// `POST /v2/account/unlink/device`.
    UnlinkDevice: api::AccountDevice => ();
    /// `POST /v2/account/unlink/email`.
    UnlinkEmail: api::AccountEmail => ();
    /// `POST /v2/account/unlink/facebook`.
    UnlinkFacebook: api::AccountFacebook => ();
    /// `POST /v2/account/unlink/facebookinstantgame`.
    UnlinkFacebookInstantGame: api::AccountFacebookInstantGame => ();
    /// `POST /v2/account/unlink/gamecenter`.
    UnlinkGameCenter: api::AccountGameCenter => ();
    /// `POST /v2/account/unlink/google`.
    UnlinkGoogle: api::AccountGoogle => ();
    /// `POST /v2/account/unlink/steam`.
    UnlinkSteam: api::AccountSteam => ();

    /// `GET /v2/friend`.
    ListFriends: api::ListFriendsRequest => api::FriendList;
    /// `POST /v2/friend`.
    AddFriends: api::AddFriendsRequest => ();
    /// `DELETE /v2/friend`.
    DeleteFriends: api::DeleteFriendsRequest => ();
    /// `POST /v2/friend/block`.
    BlockFriends: api::BlockFriendsRequest => ();
    /// `POST /v2/friend/facebook`.
    ImportFacebookFriends: api::ImportFacebookFriendsRequest => ();
    /// `POST /v2/friend/steam`.
    ImportSteamFriends: api::ImportSteamFriendsRequest => ();

    /// `POST /v2/group`.
    CreateGroup: api::CreateGroupRequest => api::Group;
    /// `PUT /v2/group/{group_id}`.
    UpdateGroup: api::UpdateGroupRequest => ();
    /// `DELETE /v2/group/{group_id}`.
    DeleteGroup: api::DeleteGroupRequest => ();
    /// `POST /v2/group/{group_id}/join`.
    JoinGroup: api::JoinGroupRequest => ();
    /// `POST /v2/group/{group_id}/leave`.
    LeaveGroup: api::LeaveGroupRequest => ();
    /// `POST /v2/group/{group_id}/add`.
    AddGroupUsers: api::AddGroupUsersRequest => ();
    /// `POST /v2/group/{group_id}/ban`.
    BanGroupUsers: api::BanGroupUsersRequest => ();
    /// `POST /v2/group/{group_id}/kick`.
    KickGroupUsers: api::KickGroupUsersRequest => ();
    /// `POST /v2/group/{group_id}/promote`.
    PromoteGroupUsers: api::PromoteGroupUsersRequest => ();
    /// `POST /v2/group/{group_id}/demote`.
    DemoteGroupUsers: api::DemoteGroupUsersRequest => ();
    /// `GET /v2/group/{group_id}/user`.
    ListGroupUsers: api::ListGroupUsersRequest => api::GroupUserList;
    /// `GET /v2/user/{user_id}/group`.
    ListUserGroups: api::ListUserGroupsRequest => api::UserGroupList;
    /// `GET /v2/group`.
    ListGroups: api::ListGroupsRequest => api::GroupList;

    /// `GET /v2/channel/{channel_id}`.
    ListChannelMessages: api::ListChannelMessagesRequest => api::ChannelMessageList;
    /// `GET /v2/notification`.
    ListNotifications: api::ListNotificationsRequest => api::NotificationList;
    /// `DELETE /v2/notification`.
    DeleteNotifications: api::DeleteNotificationsRequest => ();

    /// `GET /v2/storage/{collection}` and `GET /v2/storage/{collection}/{user_id}`.
    ListStorageObjects: api::ListStorageObjectsRequest => api::StorageObjectList;
    /// `POST /v2/storage`.
    ReadStorageObjects: api::ReadStorageObjectsRequest => api::StorageObjects;
    /// `PUT /v2/storage`.
    WriteStorageObjects: api::WriteStorageObjectsRequest => api::StorageObjectAcks;
    /// `PUT /v2/storage/delete`.
    DeleteStorageObjects: api::DeleteStorageObjectsRequest => ();

    /// `GET /v2/leaderboard/{leaderboard_id}`.
    ListLeaderboardRecords: api::ListLeaderboardRecordsRequest => api::LeaderboardRecordList;
    /// `GET /v2/leaderboard/{leaderboard_id}/owner/{owner_id}`.
    ListLeaderboardRecordsAroundOwner:
        api::ListLeaderboardRecordsAroundOwnerRequest => api::LeaderboardRecordList;
    /// `POST /v2/leaderboard/{leaderboard_id}`.
    WriteLeaderboardRecord: api::WriteLeaderboardRecordRequest => api::LeaderboardRecord;
    /// `DELETE /v2/leaderboard/{leaderboard_id}`.
    DeleteLeaderboardRecord: api::DeleteLeaderboardRecordRequest => ();
    /// `GET /v2/tournament`.
    ListTournaments: api::ListTournamentsRequest => api::TournamentList;
    /// `GET /v2/tournament/{tournament_id}`.
    ListTournamentRecords: api::ListTournamentRecordsRequest => api::TournamentRecordList;
    /// `GET /v2/tournament/{tournament_id}/owner/{owner_id}`.
    ListTournamentRecordsAroundOwner:
        api::ListTournamentRecordsAroundOwnerRequest => api::TournamentRecordList;
    /// `POST` or `PUT /v2/tournament/{tournament_id}`.
    WriteTournamentRecord: api::WriteTournamentRecordRequest => api::LeaderboardRecord;
    /// `POST /v2/tournament/{tournament_id}/join`.
    JoinTournament: api::JoinTournamentRequest => ();

    /// `GET /v2/match`.
    ListMatches: api::ListMatchesRequest => api::MatchList;
    /// `POST /v2/event`.
    Event: api::Event => ();

    /// `POST /v2/iap/purchase/apple`.
    ValidatePurchaseApple: api::ValidatePurchaseAppleRequest => api::ValidatePurchaseResponse;
    /// `POST /v2/iap/subscription/apple`.
    ValidateSubscriptionApple:
        api::ValidateSubscriptionAppleRequest => api::ValidateSubscriptionResponse;
    /// `POST /v2/iap/purchase/google`.
    ValidatePurchaseGoogle: api::ValidatePurchaseGoogleRequest => api::ValidatePurchaseResponse;
    /// `POST /v2/iap/subscription/google`.
    ValidateSubscriptionGoogle:
        api::ValidateSubscriptionGoogleRequest => api::ValidateSubscriptionResponse;
    /// `POST /v2/iap/purchase/huawei`.
    ValidatePurchaseHuawei: api::ValidatePurchaseHuaweiRequest => api::ValidatePurchaseResponse;
    /// `GET /v2/iap/subscription/{product_id}`.
    GetSubscription: api::GetSubscriptionRequest => api::ValidatedSubscription;
    /// `POST /v2/iap/subscription`.
    ListSubscriptions: api::ListSubscriptionsRequest => api::SubscriptionList;
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Name;

    impl OperationVisitor for Name {
        type Output = &'static str;
        fn visit<Op: Operation>(self, _operation: Op) -> &'static str {
            Op::NAME
        }
    }

    #[test]
    fn operations_are_found_by_name_without_case() {
        assert_eq!(visit("addfriends", Name), Some("AddFriends"));
        assert_eq!(
            visit("AuthenticateDevice", Name),
            Some("AuthenticateDevice")
        );
        assert_eq!(visit("NoSuchThing", Name), None);
        assert!(NAMES.len() > 70);
        for name in NAMES {
            assert_eq!(visit(name, Name), Some(*name));
        }
    }
}
