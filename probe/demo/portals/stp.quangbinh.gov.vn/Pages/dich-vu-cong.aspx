<!-- title: Dịch vụ công trực tuyến -->
<h2>Dịch vụ công trực tuyến</h2>
<p>Cấp phiếu lý lịch tư pháp - Mức độ 2: <a href="/Documents/to-khai-ly-lich-tu-phap.doc">Tải tờ khai yêu cầu cấp phiếu lý lịch tư pháp</a></p>
