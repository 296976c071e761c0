from django.http import JsonResponse
from django.urls import re_path


def open_view(request):
    return JsonResponse({"open": True})


def protected(request):
    cert, r = request.client_cert, request.xfcc_rejection
    return JsonResponse({"protected": True, "cn": cert.subject_cn if cert else None, "would_deny": r.code if r else None})


urlpatterns = [re_path(r"^health$", open_view), re_path(r"^.*$", protected)]
