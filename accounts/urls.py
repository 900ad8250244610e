from django.urls import path

from accounts import views

urlpatterns = [
    path("app/register/", views.register, name="backoffice-register"),
    path("app/verify-email/", views.verify_email, name="backoffice-verify-email"),
    path("app/reset-password/", views.reset_password, name="backoffice-reset-password"),
    path("app/team/", views.team_list, name="backoffice-team"),
    path("app/team/verification/", views.verification_queue, name="backoffice-verification-queue"),
    path("app/team/<oid:employee_id>/decide/", views.verification_decide, name="backoffice-verification-decide"),
]
