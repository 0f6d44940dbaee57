from bot.usecases.reports import report_for as report_for  # until home.py moves
