"""/account/…: the user's own account, MFA, step-up, reset links, and the admin pages."""

from django.urls import path

from careledger.accounts import admin_views, views

app_name = "accounts"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("mfa/", views.mfa_verify, name="mfa_verify"),
    path("mfa/enrol/", views.mfa_enrol, name="mfa_enrol"),
    path("mfa/backup-codes/", views.backup_codes, name="backup_codes"),
    path("step-up/", views.step_up, name="step_up"),
    path("password/", views.password_change, name="password_change"),
    path("logout-everywhere/", views.logout_everywhere, name="logout_everywhere"),
    path("reset/new-password/", views.reset_confirm, name="reset_confirm"),
    path("reset/<str:token>/", views.reset_start, name="reset_start"),
    path("admin/users/", admin_views.users, name="admin_users"),
    path("admin/locked/", admin_views.locked, name="admin_locked"),
    path("admin/unlock/", admin_views.unlock, name="admin_unlock"),
    path("admin/active/", admin_views.set_active, name="admin_set_active"),
    path("admin/reset-link/", admin_views.reset_link, name="admin_reset_link"),
    path("admin/mfa-reset/", admin_views.mfa_reset, name="admin_mfa_reset"),
]
