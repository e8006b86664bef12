from django.http import HttpResponse
from django.urls import path


def index(request):
    return HttpResponse('ok\n', content_type='text/plain; charset=utf-8')


def health(request):
    """For load balancers and the deploy's own check; exempt from the HTTPS redirect."""
    return HttpResponse('healthy\n', content_type='text/plain; charset=utf-8')


urlpatterns = [
    path('', index),
    path('health', health),
]
