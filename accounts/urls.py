from django.urls import path

from accounts import views

urlpatterns = [
    path("app/login/", views.backoffice_login, name="backoffice-login"),
    path("app/logout/", views.backoffice_logout, name="backoffice-logout"),
    path("app/register/", views.register, name="backoffice-register"),
    path("app/verify-email/", views.verify_email, name="backoffice-verify-email"),
    path("app/reset-password/", views.reset_password, name="backoffice-reset-password"),
    path("app/organization/", views.organization_settings, name="backoffice-organization"),
    path("app/team/", views.team_list, name="backoffice-team"),
    path("app/team/invite/", views.team_invite, name="backoffice-team-invite"),
    path("app/team/invitations/<oid:invitation_id>/revoke/", views.invitation_revoke,
         name="backoffice-invitation-revoke"),
    path("app/team/verification/", views.verification_queue, name="backoffice-verification-queue"),
    path("app/team/<oid:employee_id>/decide/", views.verification_decide, name="backoffice-verification-decide"),
    path("app/invitations/", views.invitation_inbox, name="backoffice-invitations"),
    path("app/invitations/accept/", views.invitation_link, name="backoffice-invitation-link"),
    path("app/invitations/<oid:invitation_id>/accept/", views.invitation_answer, {"decision": "accept"},
         name="backoffice-invitation-accept"),
    path("app/invitations/<oid:invitation_id>/decline/", views.invitation_answer, {"decision": "decline"},
         name="backoffice-invitation-decline"),
]
