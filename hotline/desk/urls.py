"""The desk's pages: the queue, a case and every action on it, canned replies, the Team page."""

from django.urls import path

from hotline.desk.views import canned, case, live, media, notices, queue, search, team

urlpatterns = [
    path("", queue.queue, name="queue"),
    path("take-next/", queue.take_next, name="take_next"),
    path("calls/", queue.call_log, name="call_log"),
    path("notices/", notices.notices, name="notices"),
    path("notices/read/", notices.notices_read, name="notices_read"),
    path("cases/<int:case_id>/", case.case_detail, name="case"),
    path("cases/<int:case_id>/live/", live.case_live, name="case_live"),
    path("live/desk/", live.desk_live, name="desk_live"),
    path("search/", search.search_page, name="search"),
    path("cases/<int:case_id>/next/", case.case_next, name="case_next"),
    path("cases/<int:case_id>/take/", case.case_take, name="case_take"),
    path("cases/<int:case_id>/unassign/", case.case_unassign, name="case_unassign"),
    path("cases/<int:case_id>/assign/", case.case_assign, name="case_assign"),
    path("cases/<int:case_id>/reply/", case.case_reply, name="case_reply"),
    path("cases/<int:case_id>/call/", case.case_call, name="case_call"),
    path("cases/<int:case_id>/note/", case.case_note, name="case_note"),
    path("cases/<int:case_id>/advance/", case.case_advance, name="case_advance"),
    path("cases/<int:case_id>/equipment/", case.case_declare, name="case_declare"),
    path("cases/<int:case_id>/surrender/", case.case_surrender, name="case_surrender"),
    path("cases/<int:case_id>/close/", case.case_close, name="case_close"),
    path("cases/<int:case_id>/reopen/", case.case_reopen, name="case_reopen"),
    path("cases/<int:case_id>/reward-paid/", case.case_reward_paid, name="case_reward_paid"),
    path("cases/<int:case_id>/files/<int:media_id>/", media.case_media, name="case_media"),
    path("cases/<int:case_id>/files/send/", media.case_send_file, name="case_send_file"),
    path("canned/", canned.canned_list, name="canned_replies"),
    path("canned/new/", canned.canned_save, name="canned_create"),
    path("canned/<int:canned_id>/", canned.canned_save, name="canned_update"),
    path("operators/shift/", team.shift, name="shift"),
    path("operators/team/", team.team_page, name="team"),
    path("operators/team/<int:user_id>/shift/", team.operator_shift, name="operator_shift"),
    path("operators/team/<int:user_id>/settings/", team.operator_settings, name="operator_settings"),
    path("operators/team/<int:user_id>/release/", team.operator_release, name="operator_release"),
    path("operators/team/<int:user_id>/sessions/end/", team.operator_sessions_end, name="operator_sessions_end"),
    path("operators/team/<int:user_id>/deactivate/", team.operator_deactivate_view, name="operator_deactivate"),
    path("operators/team/<int:user_id>/reactivate/", team.operator_reactivate_view, name="operator_reactivate"),
    path(
        "operators/team/<int:user_id>/second-factor/reset/", team.operator_second_factor_reset,
        name="operator_2fa_reset",
    ),
]
