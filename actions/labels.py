"""Vietnamese labels for what citizens can ask, used in buttons and replies."""

INTENT_LABELS = {
    "greet": "Chào hỏi",
    "goodbye": "Chào tạm biệt",
    "thanks": "Cảm ơn",
    "help": "Xem mình giúp được gì",
    "bot_challenge": "Hỏi mình là người hay máy",
    "human_handoff": "Gặp tổng đài viên",
    "cancel": "Dừng việc đang làm",
    "ask_procedure": "Hỏi về một thủ tục hành chính",
    "ask_procedure_documents": "Hỏi giấy tờ cần chuẩn bị",
    "ask_procedure_fee": "Hỏi lệ phí",
    "ask_procedure_time": "Hỏi thời gian giải quyết",
    "ask_procedure_place": "Hỏi nơi nộp hồ sơ",
    "ask_procedure_online": "Hỏi cách nộp trực tuyến",
    "ask_procedure_steps": "Hỏi các bước thực hiện",
    "ask_procedure_conditions": "Hỏi điều kiện thực hiện",
    "report_problem": "Gửi phản ánh hiện trường",
    "check_report_status": "Tra cứu phản ánh đã gửi",
    "check_application_status": "Tra cứu hồ sơ đã nộp",
    "inform_place": "Cho biết địa điểm",
    "rate_report": "Đánh giá phản ánh đã xử lý",
    "reopen_report": "Báo phản ánh chưa xử lý xong",
}

# What each procedure question asks about, as said in a sentence ("hỏi về …").
ASPECT_LABELS = {
    "ask_procedure": "cách thực hiện",
    "ask_procedure_documents": "giấy tờ cần chuẩn bị",
    "ask_procedure_fee": "lệ phí",
    "ask_procedure_time": "thời gian giải quyết",
    "ask_procedure_place": "nơi nộp hồ sơ",
    "ask_procedure_online": "việc nộp trực tuyến",
    "ask_procedure_steps": "các bước thực hiện",
    "ask_procedure_conditions": "điều kiện thực hiện",
}
