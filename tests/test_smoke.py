from accounts.models import User


def test_user_round_trip(make_user):
    user = make_user(username="alice")
    assert User.objects.get(username="alice").pk == user.pk
