from django.shortcuts import render


def customer_search(request):
    return render(request, "helpdesk/dashboard.html", {"search_query": request.GET.get("q", "")})
